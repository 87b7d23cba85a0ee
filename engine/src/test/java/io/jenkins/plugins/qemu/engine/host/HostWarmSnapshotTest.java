package io.jenkins.plugins.qemu.engine.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.state.VmDir;
import io.jenkins.plugins.qemu.engine.testing.TestImages;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 18: warm snapshots per host. A host keeps its own snapshots, and builds one only while the
 * controller holds a booking for its boot: a boot that finds none boots cold and starts no
 * unbooked snapshot VM; {@link BuildSnapshot} (sent with a booking held) builds it; the next boot
 * on that host restores from it. Every request goes through Java serialisation, as over remoting,
 * against real QEMU.
 */
class HostWarmSnapshotTest {
    @Test
    void aHostBuildsItsSnapshotOnlyWhenBookedAndThenRestoresFromIt() throws Exception {
        Path state = TestImages.shortTempDir();
        HostSide side = HostSide.open(new HostSetup("host-w", TestImages.imagesDir().toString(), state.toString(),
                "test-host-warm-" + ProcessHandle.current().pid()));
        try {
            HostChannel host = new InProcessHost(side);
            VmSpec spec = TestImages.guestSpec().warmStart(true).build(); // each boot below gets a spec of its own (id, host name)
            SnapshotState before = host.call(new CheckSnapshot(spec, null));
            assertFalse(before.current(), before.toString());
            assertTrue(before.buildable(), before.toString());

            // No booking: the boot goes cold, and the build it asks for is refused, so no second VM runs.
            BootedVm cold = host.call(new BootVm(TestImages.guestSpec().warmStart(true).build()));
            assertFalse(cold.restored(), cold.toString());
            assertEquals(1, qemuProcessesIn(state), "only the booted VM runs on the host");
            assertTrue(host.call(new DestroyVm(cold.vmId())));
            assertEquals(0, side.snapshotGrantsOpen());
            SnapshotState refused = awaitNoBuildInFlight(host, spec);
            assertFalse(refused.current(), refused.toString());
            assertTrue(refused.buildable(), "a refused build is no failed attempt: " + refused);

            // Booked by the controller: built now, and the grant is used up.
            String built = host.call(new BuildSnapshot(spec, null));
            assertTrue(built.startsWith("warm snapshot ") && built.endsWith(" is current"), built);
            assertEquals(0, side.snapshotGrantsOpen());
            assertTrue(host.call(new CheckSnapshot(spec, null)).current());
            assertEquals(built, host.call(new BuildSnapshot(spec, null)), "a current snapshot is not built again");

            BootedVm warm = host.call(new BootVm(TestImages.guestSpec().warmStart(true).build()));
            assertTrue(warm.restored(), warm.toString());
            CommandResult hostname = host.call(new RunInVm(warm.vmId(), "hostname", Duration.ofMinutes(1)));
            assertEquals(warm.vmId(), hostname.stdout().strip(), "the restored clone has its own host name");
            assertTrue(host.call(new DestroyVm(warm.vmId())));
        } finally {
            side.close();
            assertEquals(List.of(), TestImages.processesMentioning(state.toString()), "QEMU left on the host");
            List<Path> left;
            try (var files = Files.list(state)) {
                left = files.filter(f -> !f.getFileName().toString().startsWith(".") && !VmDir.isNonVmFolder(f.getFileName().toString())).toList();
            }
            FileTree.delete(state);
            assertEquals(List.of(), left, "VM folders left on the host");
        }
    }

    private static long qemuProcessesIn(Path state) throws Exception {
        return TestImages.processesMentioning(state.toString()).stream()
                .filter(pid -> ProcessHandle.of(pid).flatMap(h -> h.info().command()).orElse("").contains("qemu-system")).count();
    }

    /** The refused background build leaves the in-flight map a moment after the boot asked for it. */
    private static SnapshotState awaitNoBuildInFlight(HostChannel host, VmSpec spec) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        SnapshotState s = host.call(new CheckSnapshot(spec, null));
        while (s.text().contains("being built") && System.nanoTime() < deadline) {
            Thread.sleep(100);
            s = host.call(new CheckSnapshot(spec, null));
        }
        return s;
    }
}
