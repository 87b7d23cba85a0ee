package io.jenkins.plugins.qemu.engine.warm;

import io.jenkins.plugins.qemu.engine.qmp.QmpClient;
import io.jenkins.plugins.qemu.engine.vm.Phase;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
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
    private static final Duration SETTLE = Duration.ofSeconds(1);
    private static final long MIGRATION_BANDWIDTH = 64L << 30;

    private SnapshotSaver() {}

    /** The VM is dead afterwards; the caller destroys it. */
    static void save(Vm vm, Path diskFile, Path stateFile, Duration timeout) throws IOException, InterruptedException {
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
        // Clones must not start with the builder's SSH session in their memory.
        vm.dropConnection();
        // The login session just closed is torn down by the guest asynchronously (PAM, logind);
        // give it a moment so clones do not all repeat that work after every restore.
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
    }

    private static Duration remaining(Instant deadline, Duration cap) {
        Duration left = Duration.between(Instant.now(), deadline);
        return left.compareTo(cap) > 0 ? cap : left.isNegative() ? Duration.ofMillis(1) : left;
    }
}
