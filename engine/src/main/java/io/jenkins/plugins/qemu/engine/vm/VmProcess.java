package io.jenkins.plugins.qemu.engine.vm;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import io.jenkins.plugins.qemu.engine.state.ProcFs;
import io.jenkins.plugins.qemu.engine.state.ProcessStat;
import java.util.concurrent.TimeUnit;

/**
 * One QEMU process, started from an argv list (never through a shell), with its stdout discarded
 * and its stderr in a file so errors can quote it. Closing kills it if it still runs and waits for
 * it to be gone. A process adopted from an earlier engine incarnation is not this JVM's child
 * (or, after a safe restart re-executed the JVM, a child it never started): it is held as a
 * {@link ProcessHandle}, whose signals re-check the start time, and a zombie counts as gone.
 */
public final class VmProcess implements AutoCloseable {
    /** Null for an adopted process. */
    private final Process process;
    private final ProcessHandle handle;
    private final ProcFs proc;
    private final Path stderr;
    private final Instant started;

    private VmProcess(Process process, Path stderr, Instant started) {
        this.process = process;
        this.handle = process.toHandle();
        this.proc = null;
        this.stderr = stderr;
        this.started = started;
    }

    private VmProcess(ProcessHandle handle, ProcFs proc, Path stderr) {
        this.process = null;
        this.handle = handle;
        this.proc = proc;
        this.stderr = stderr;
        this.started = handle.info().startInstant().orElse(Instant.now());
    }

    /**
     * The running process {@code pid}, if it still has {@code startTime} (clock ticks since boot,
     * as /proc reports it and as the VM's record holds it); empty otherwise.
     */
    static Optional<VmProcess> adopt(long pid, long startTime, ProcFs proc, Path stderr) {
        Optional<ProcessStat> st = proc.stat(pid);
        if (st.isEmpty() || st.get().zombie() || st.get().startTime() != startTime) {
            return Optional.empty();
        }
        // Taken after the check; ProcessHandle pins the start time it sees, so a later reuse of the pid is never signalled.
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        Optional<ProcessStat> again = proc.stat(pid);
        if (h.isEmpty() || again.isEmpty() || again.get().startTime() != startTime) {
            return Optional.empty();
        }
        return Optional.of(new VmProcess(h.get(), proc, stderr));
    }

    public static VmProcess start(List<String> argv, Path stderr) throws IOException {
        Process p;
        try {
            p = builder(argv, stderr).start();
        } catch (IOException e) {
            throw new IOException("cannot start " + argv.get(0) + " (is qemu-system-x86 installed?): " + e.getMessage(), e);
        }
        return new VmProcess(p, stderr, Instant.now());
    }

    /** Starts QEMU from the engine's spawner thread, so it can die with the JVM (see {@link ProcessSpawner}). */
    static VmProcess start(List<String> argv, Path stderr, ProcessSpawner spawner) throws IOException, InterruptedException {
        return start(argv, stderr, spawner, null);
    }

    /**
     * As above with {@code stdin} as QEMU's standard input: a restore reads the saved machine
     * state from there ({@code -incoming fd:0}), which needs neither a shell nor a helper process.
     */
    static VmProcess start(List<String> argv, Path stderr, ProcessSpawner spawner, Path stdin) throws IOException, InterruptedException {
        return start(argv, stderr, spawner, stdin, true);
    }

    /** As above; {@code dieWithParent} false for a leased VM (see {@link ProcessSpawner#start(ProcessBuilder, List, boolean)}). */
    static VmProcess start(List<String> argv, Path stderr, ProcessSpawner spawner, Path stdin, boolean dieWithParent)
            throws IOException, InterruptedException {
        Process p;
        try {
            ProcessBuilder b = builder(argv, stderr);
            if (stdin != null) {
                b.redirectInput(stdin.toFile());
            }
            p = spawner.start(b, argv, dieWithParent);
        } catch (IOException e) {
            throw new IOException("cannot start " + argv.get(0) + " (is qemu-system-x86 installed?): " + e.getMessage(), e);
        }
        return new VmProcess(p, stderr, Instant.now());
    }

    private static ProcessBuilder builder(List<String> argv, Path stderr) {
        return new ProcessBuilder(argv)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(stderr.toFile());
    }

    public long pid() {
        return handle.pid();
    }

    public boolean isAlive() {
        if (process != null) {
            return process.isAlive();
        }
        return handle.isAlive() && proc.stat(handle.pid()).map(s -> !s.zombie()).orElse(false);
    }

    /** Whether this process was adopted rather than started by this engine. */
    public boolean adopted() {
        return process == null;
    }

    public Instant started() {
        return started;
    }

    public Path stderrFile() {
        return stderr;
    }

    /** The exit code, or -1 while it still runs (and always for an adopted process: only its parent learns it). */
    public int exitCode() {
        if (process == null) {
            return -1;
        }
        return process.isAlive() ? -1 : process.exitValue();
    }

    public boolean waitFor(Duration d) throws InterruptedException {
        if (process != null) {
            return process.waitFor(d.toMillis(), TimeUnit.MILLISECONDS);
        }
        // Polled: not our child, so nothing wakes us when it exits; a zombie counts as gone.
        long deadline = System.nanoTime() + d.toNanos();
        while (isAlive()) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    /** SIGKILL and wait; QEMU holds no state we could lose. */
    public void kill() throws InterruptedException {
        if (isAlive()) {
            handle.destroyForcibly();
        }
        if (!waitFor(Duration.ofSeconds(10))) {
            throw new IllegalStateException("QEMU pid " + pid() + " did not die within 10 s of SIGKILL");
        }
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
