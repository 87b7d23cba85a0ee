package io.jenkins.plugins.qemu.engine.vm;

import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Starts QEMU processes from one long-lived thread, wrapped in {@code setpriv --pdeathsig KILL}
 * where that is available, so a QEMU dies with the JVM even when the JVM is SIGKILLed and runs no
 * cleanup. The parent-death signal fires when the <em>thread</em> that forked the child ends, not
 * the process; starting from callers' threads (pool threads that die when idle) would kill VMs at
 * random, hence the dedicated thread, which lives exactly as long as the engine.
 */
public final class ProcessSpawner implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ProcessSpawner.class.getName());

    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "qemu-agents-spawner");
        t.setDaemon(true);
        return t;
    });
    private final List<String> prefix;
    /** For processes that must outlive the JVM (leased VMs): their own session, see {@link #start(ProcessBuilder, List, boolean)}. */
    private final List<String> detachedPrefix;

    public ProcessSpawner(boolean parentDeathSignal) {
        this.prefix = parentDeathSignal ? setpriv().map(p -> List.of(p.toString(), "--pdeathsig", "KILL", "--")).orElse(List.of())
                : List.of();
        this.detachedPrefix = EngineConfig.findOnPath("setsid").map(p -> List.of(p.toString())).orElse(List.of());
        if (parentDeathSignal && prefix.isEmpty()) {
            LOG.warning("setpriv (util-linux) with --pdeathsig is not available: QEMU will not die with a killed JVM;"
                    + " the reaper cleans up on the next start");
        }
    }

    /** Whether QEMU processes get SIGKILL when the engine's JVM dies. */
    public boolean parentDeathSignal() {
        return !prefix.isEmpty();
    }

    /**
     * Starts {@code argv} with the builder's redirections. With setpriv in front, the returned
     * process is setpriv, which then becomes QEMU through exec: same pid, same start time.
     */
    Process start(ProcessBuilder builder, List<String> argv) throws IOException, InterruptedException {
        return start(builder, argv, true);
    }

    /**
     * As above; with {@code dieWithParent} false (a leased VM, meant to outlive a controller
     * restart) without the parent-death signal and in a session of its own ({@code setsid}, which
     * execs in place as the child is no process-group leader: same pid), so neither the JVM's end
     * nor a signal to the JVM's process group (a terminal's Ctrl-C) reaches it.
     */
    Process start(ProcessBuilder builder, List<String> argv, boolean dieWithParent) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(dieWithParent ? prefix : detachedPrefix);
        full.addAll(argv);
        builder.command(full);
        Future<Process> f;
        try {
            // submit, not execute: an exception must not kill the thread (and with it every VM it started).
            f = thread.submit(builder::start);
        } catch (RejectedExecutionException e) {
            throw new IOException("the engine is closed; no more VMs can be started", e);
        }
        try {
            return f.get();
        } catch (InterruptedException e) {
            // The start may still go through; such a process must not run on unseen.
            thread.execute(() -> killWhenStarted(f));
            throw e;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException("cannot start " + argv.get(0) + ": " + e.getCause(), e.getCause());
        }
    }

    private static void killWhenStarted(Future<Process> f) {
        try {
            f.get().destroyForcibly();
        } catch (InterruptedException | ExecutionException ignored) {
            // Nothing was started.
        }
    }

    private static Optional<Path> setpriv() {
        Optional<Path> setpriv = EngineConfig.findOnPath("setpriv");
        if (setpriv.isEmpty()) {
            return setpriv;
        }
        try {
            Process p = new ProcessBuilder(setpriv.get().toString(), "--pdeathsig", "KILL", "--", "true")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0) {
                return setpriv;
            }
            p.destroyForcibly();
        } catch (IOException e) {
            // Treated as absent.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Optional.empty();
    }

    /** Ends the thread; call only once every process it started is gone, as they get SIGKILL now. */
    @Override
    public void close() throws InterruptedException {
        thread.shutdown();
        thread.awaitTermination(10, TimeUnit.SECONDS);
    }
}
