package io.jenkins.plugins.qemu.engine.warm;

import io.jenkins.plugins.qemu.engine.qmp.QmpClient;
import io.jenkins.plugins.qemu.engine.ssh.GuestSsh;
import io.jenkins.plugins.qemu.engine.usage.NicCounters;
import io.jenkins.plugins.qemu.engine.vm.AgentJar;
import io.jenkins.plugins.qemu.engine.vm.AgentPrestart;
import io.jenkins.plugins.qemu.engine.vm.Phase;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * Saves a running VM that was booted for a warm snapshot: waits until the guest has settled,
 * pauses it, streams QEMU's migration into the state file ({@link MigrationSink}) and quits
 * QEMU so its disk is complete, then moves that disk to be the snapshot's frozen layer.
 */
final class SnapshotSaver {
    private static final Duration SETTLE = Duration.ofSeconds(3);
    private static final long MIGRATION_BANDWIDTH = 64L << 30;
    /** {@code false} keeps the guest's page cache in the snapshot, to measure what dropping it costs and saves. */
    static final String DROP_CACHES_PROPERTY = "qemu-agents.snapshot.drop-caches";

    private SnapshotSaver() {}

    /**
     * The VM is dead afterwards; the caller destroys it. Returns the guest's NIC counters as its
     * last connection ended (see {@link NicCounters}), or null if they could not be read.
     */
    static NicCounters.Totals save(Vm vm, Path diskFile, Path stateFile, Duration timeout) throws IOException, InterruptedException {
        if (!vm.warmSnapshotBoot() || vm.phase() != Phase.RUNNING) {
            throw new IllegalStateException("VM " + vm.id() + " is not a running warm-snapshot boot (phase " + vm.phase() + ")");
        }
        Instant deadline = Instant.now().plus(timeout);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        // Booted means sshd answers; settled means no unit is still starting, and our identity
        // service is waiting on its port (else a restore would wait for an answer forever).
        // cloud-init's last stage (where a stock image's service was installed) is done as well.
        int rc = vm.exec((vm.usedCloudInit() ? "cloud-init status --wait >/dev/null 2>&1;" : "")
                + " systemctl is-system-running --wait >/dev/null 2>&1;"
                + " systemctl is-active --quiet qemu-agents-identity.service && exit 0;"
                + " systemctl status --no-pager -n 15 qemu-agents-identity.service; exit 1", out, out,
                remaining(deadline, Duration.ofMinutes(3)));
        if (rc != 0) {
            throw new IOException("the guest's qemu-agents-identity service is not running: " + out.toString(StandardCharsets.UTF_8).strip());
        }
        boolean dropped = prepareGuest(vm, remaining(deadline, Duration.ofMinutes(3)));
        // Read on the session that is about to end: the clones' counters go on from these, so what
        // the snapshot boot moved is not counted as theirs (all but the few KiB of the logins below).
        NicCounters.Totals nics = vm.nicCounters();
        // Clones must not start with the builder's SSH session in their memory.
        vm.dropConnection();
        if (dropped) {
            warmFirstLogin(vm, remaining(deadline, Duration.ofMinutes(1)));
        }
        // The login session just closed is torn down by the guest asynchronously (PAM, logind),
        // and the guest reports free memory 2 s after it is freed; wait for both, so clones neither
        // repeat that work after every restore nor load pages nobody uses.
        Thread.sleep(SETTLE.toMillis());
        QmpClient q = vm.monitor();
        q.execute("stop", null, Duration.ofSeconds(10));
        q.execute("migrate-set-parameters", Map.of("max-bandwidth", MIGRATION_BANDWIDTH), Duration.ofSeconds(10));
        MigrationSink.receive(q, vm.folder().migrateSocket(), stateFile, deadline);
        try {
            q.execute("quit", null, Duration.ofSeconds(5));
        } catch (IOException e) {
            // QEMU often closes the socket before its reply to quit arrives; that is success.
        }
        if (!vm.awaitExit(remaining(deadline, Duration.ofSeconds(30)))) {
            throw new IOException("QEMU did not quit after saving the snapshot");
        }
        // Closed cleanly, QEMU has written every qcow2 table: the overlay is the frozen layer now.
        Files.move(vm.diskFile(), diskFile);
        return nics;
    }

    /**
     * What every clone would otherwise do after its restore is done once here, over one SSH
     * connection: the agent's jar and class-data-sharing archive are put in place (see AgentJar).
     * Then the guest's page cache is dropped and its memory compacted, so the pages the boot read
     * and freed are reported free and not saved; with an agent jar the agent is then started and
     * left waiting for its launcher ({@link AgentPrestart}), so every clone has it running and
     * what a fresh agent start reads cached. Dropping needs root, i.e. sudo.
     */
    private static boolean prepareGuest(Vm vm, Duration timeout) throws IOException {
        AgentJar agent = vm.spec().agentJar();
        boolean drop = vm.spec().sudo() && !"false".equals(System.getProperty(DROP_CACHES_PROPERTY));
        if (agent == null && !drop) {
            return false;
        }
        try (GuestSsh.Connection ssh = vm.connect(timeout)) {
            if (agent != null) {
                agent.prepareSnapshot(ssh, timeout);
                agent.seedJarCache(ssh, timeout);
            }
            if (drop) {
                ByteArrayOutputStream err = new ByteArrayOutputStream();
                int rc = ssh.exec("sudo -n sh -c 'sync; echo 3 > /proc/sys/vm/drop_caches; echo 1 > /proc/sys/vm/compact_memory'",
                        null, OutputStream.nullOutputStream(), err, timeout);
                if (rc != 0) {
                    throw new IOException("dropping the guest's page cache failed (exit " + rc + "): " + err.toString(StandardCharsets.UTF_8).strip());
                }
            }
            if (agent != null) {
                // After the drop, so what an agent's start reads is what stays cached.
                new AgentPrestart(agent, vm.accelerator().accel()).start(ssh, timeout);
            }
        }
        return drop;
    }

    /**
     * A new login after the page cache was dropped, running what the identity service runs
     * ({@code date}): what every clone's first login reads from disk (sshd re-executed for the
     * connection with its libraries, PAM's modules, the shell) is then in the snapshot's page
     * cache instead, a few MiB for a faster first login after every restore.
     */
    private static void warmFirstLogin(Vm vm, Duration timeout) throws IOException {
        // No connection is kept now, so this is a new one, and closing it ends it.
        try (GuestSsh.Connection ssh = vm.connect(timeout)) {
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int rc = ssh.exec("date >/dev/null", null, OutputStream.nullOutputStream(), err, timeout);
            if (rc != 0) {
                throw new IOException("a login to cache the first login's files failed (exit " + rc + "): "
                        + err.toString(StandardCharsets.UTF_8).strip());
            }
        }
    }

    private static Duration remaining(Instant deadline, Duration cap) {
        Duration left = Duration.between(Instant.now(), deadline);
        return left.compareTo(cap) > 0 ? cap : left.isNegative() ? Duration.ofMillis(1) : left;
    }
}
