package io.jenkins.plugins.qemu.engine.vm;

import io.jenkins.plugins.qemu.engine.qmp.QmpClient;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.logging.Logger;

/**
 * What the engine asks of a running QEMU over QMP beyond booting it: load a saved state and
 * stop it (gracefully, then {@code quit}, then SIGKILL). Kept apart from the boot steps because
 * both the restore path and every release of a VM use it.
 */
final class QemuControl {
    private static final Logger LOG = Logger.getLogger(QemuControl.class.getName());

    private QemuControl() {}

    /** The state file is QEMU's stdin; fd:0 needs no shell and no helper process. */
    static void loadState(QmpClient q, VmProcess p, Instant deadline) throws Exception {
        q.execute("migrate-incoming", Map.of("uri", "fd:0"), Duration.ofSeconds(10));
        awaitIncoming(q, p, deadline);
        q.execute("cont", null, Duration.ofSeconds(10));
    }

    /**
     * The incoming side stays in "inmigrate" while it reads the state; then it is paused (-S).
     * Reading a file never blocks, so QEMU's main loop, and with it QMP, may not answer until the
     * whole state is loaded: one query may wait for most of the load.
     */
    private static void awaitIncoming(QmpClient q, VmProcess p, Instant deadline) throws Exception {
        while (true) {
            String status;
            try {
                status = q.execute("query-status", null, VmBoot.remaining(deadline, Duration.ofMinutes(2))).path("status").asText();
            } catch (IOException e) {
                // QEMU closes QMP as it exits on a state it cannot load; give the exit a moment to show.
                if (p.waitFor(Duration.ofSeconds(3))) {
                    throw new IOException("QEMU exited with code " + p.exitCode() + " while loading the snapshot", e);
                }
                throw e;
            }
            if (!status.equals("inmigrate")) {
                if (!status.equals("paused") && !status.equals("prelaunch")) {
                    throw new IOException("QEMU is in state '" + status + "' after loading the snapshot, not paused");
                }
                return;
            }
            if (!p.isAlive()) {
                throw new IOException("QEMU exited with code " + p.exitCode() + " while loading the snapshot");
            }
            if (!Instant.now().isBefore(deadline)) {
                throw new IOException("QEMU was still loading the snapshot at the deadline");
            }
            Thread.sleep(10);
        }
    }

    /**
     * Asks QEMU to stop through its monitor: {@code system_powerdown} with a bounded wait when
     * {@code grace} is set, then {@code quit}. Whatever is still alive afterwards is killed by
     * the release of the process itself.
     */
    static void stop(String vmId, VmProcess p, QmpClient q, Duration grace) throws InterruptedException {
        if (grace != null && !grace.isZero() && p.isAlive()) {
            try {
                q.execute("system_powerdown", null, Duration.ofSeconds(2));
                if (p.waitFor(grace)) {
                    return;
                }
                LOG.info("[" + vmId + "] guest did not power off within " + grace.toSeconds() + " s; quitting QEMU");
            } catch (IOException e) {
                LOG.fine(() -> "[" + vmId + "] system_powerdown: " + e.getMessage());
            }
        }
        if (p.isAlive()) {
            try {
                q.execute("quit", null, Duration.ofSeconds(2));
            } catch (IOException e) {
                // QEMU often closes the socket before its reply to quit arrives; that is success.
            }
            p.waitFor(Duration.ofSeconds(2));
        }
    }

    /** SIGKILL for what did not stop; an interrupted destroy still kills, so no VM leaks. */
    static void kill(String vmId, VmProcess p) {
        if (p.isAlive()) {
            LOG.info("[" + vmId + "] killing QEMU pid " + p.pid());
        }
        try {
            p.kill();
        } catch (InterruptedException e) {
            try {
                p.kill();
            } catch (InterruptedException again) {
                Thread.currentThread().interrupt();
            }
            Thread.currentThread().interrupt();
        }
    }
}
