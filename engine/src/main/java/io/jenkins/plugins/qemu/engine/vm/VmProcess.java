package io.jenkins.plugins.qemu.engine.vm;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One QEMU process, started from an argv list (never through a shell), with its stdout discarded
 * and its stderr in a file so errors can quote it. Closing kills it if it still runs and waits for
 * it to be gone.
 */
public final class VmProcess implements AutoCloseable {
    private final Process process;
    private final Path stderr;
    private final Instant started;

    private VmProcess(Process process, Path stderr, Instant started) {
        this.process = process;
        this.stderr = stderr;
        this.started = started;
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
        Process p;
        try {
            ProcessBuilder b = builder(argv, stderr);
            if (stdin != null) {
                b.redirectInput(stdin.toFile());
            }
            p = spawner.start(b, argv);
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
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Instant started() {
        return started;
    }

    public Path stderrFile() {
        return stderr;
    }

    /** The exit code, or -1 while it still runs. */
    public int exitCode() {
        return process.isAlive() ? -1 : process.exitValue();
    }

    public boolean waitFor(Duration d) throws InterruptedException {
        return process.waitFor(d.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** SIGKILL and wait; QEMU holds no state we could lose. */
    public void kill() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("QEMU pid " + pid() + " did not die within 10 s of SIGKILL");
        }
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
