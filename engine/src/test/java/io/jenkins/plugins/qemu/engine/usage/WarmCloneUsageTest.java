package io.jenkins.plugins.qemu.engine.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.QemuEngine;
import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.testing.TestImages;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A VM restored from a warm snapshot is counted like a booted one: its own QEMU's vCPU time, the
 * guest's writes since the restore and its overlay's growth over the snapshot's frozen layer; its
 * guest's memory through the balloon it was saved with, and its network from the restore on,
 * although its NIC counters go on from the snapshot's.
 */
class WarmCloneUsageTest {
    private static final long MIB = 1 << 20;

    @Test
    void aRestoredCloneReportsItsOwnUsage() throws Exception {
        Path stateDir = TestImages.shortTempDir();
        try (QemuEngine engine = new QemuEngine(TestImages.config(stateDir))) {
            VmSpec spec = TestImages.guestSpec().warmStart(true).build();
            NicCounters.Totals saved = engine.prepareWarmSnapshot(spec).nicsAtSave();
            assertTrue(saved != null && saved.rxBytes() > 0 && saved.txBytes() > 0, "the snapshot boot's logins counted: " + saved);
            Vm vm = engine.boot(spec, line -> { });
            VmUsage after;
            try {
                assertTrue(vm.restored(), "restored, not booted: " + vm.coldBootReason());
                VmUsage online = vm.usage();
                long start = System.nanoTime();
                VmUsage again = vm.usage();
                System.out.printf("one sample of a running clone (QMP, /proc, the guest's NIC counters over SSH): %d ms%n",
                        (System.nanoTime() - start) / 1_000_000);
                NicCounters.Totals raw = vm.nicCounters();
                System.out.printf("clone's NIC counters: %s in the guest, %s at save; %d / %d bytes since the restore,"
                        + " %d / %d of them for one reading%n", raw, saved, again.netRxBytes(), again.netTxBytes(),
                        again.netRxBytes() - online.netRxBytes(), again.netTxBytes() - online.netTxBytes());
                // The guest's counters went on from the snapshot's: the clone's own figures are the
                // difference, up to the one reading between the last sample and this one.
                long rxBeyond = raw.rxBytes() - saved.rxBytes() - again.netRxBytes();
                long txBeyond = raw.txBytes() - saved.txBytes() - again.netTxBytes();
                assertTrue(online.netRxBytes() > 0 && rxBeyond >= 0 && rxBeyond <= 4096 && txBeyond >= 0 && txBeyond <= 4096,
                        "counted from the restore: " + raw + " in the guest, " + saved + " at save, " + again);
                TestImages.run(vm, "dd if=/dev/urandom of=/var/tmp/z bs=1M count=32 oflag=direct status=none");
                byte[] up = new byte[8 << 20];
                new java.util.Random(19).nextBytes(up);
                try (var ssh = vm.connect(java.time.Duration.ofMinutes(1))) {
                    assertEquals(0, ssh.exec("cat > /dev/null", new java.io.ByteArrayInputStream(up),
                            java.io.OutputStream.nullOutputStream(), System.err, java.time.Duration.ofMinutes(5)));
                }
                after = TestImages.awaitGuestMemory(vm); // through the balloon it was saved with
                System.out.println("warm clone after writing 32 MiB: " + after.summary());
                assertTrue(online.vcpuNanos() >= 0 && after.vcpuNanos() > online.vcpuNanos(), online + " -> " + after);
                assertTrue(after.diskWrittenBytes() - online.diskWrittenBytes() >= 32 * MIB, online + " -> " + after);
                assertTrue(after.overlayGrowthBytes() >= 32 * MIB, after.toString());
                assertTrue(after.rssBytes() > 0 && after.peakRssBytes() >= after.rssBytes(), after.toString());
                assertTrue(after.netRxBytes() - online.netRxBytes() >= up.length, online + " -> " + after);
            } finally {
                vm.destroy();
            }
            VmUsage last = vm.usage();
            assertTrue(last.vcpuNanos() >= after.vcpuNanos() && !last.sampledAt().isBefore(after.sampledAt()),
                    "the final figures, read as the destroy began, stay readable: " + last);
            assertEquals(List.of(), TestImages.processesMentioning(vm.id()));
        } finally {
            List<Path> left = TestImages.filesBelow(stateDir).stream()
                    .filter(p -> !p.startsWith(stateDir.resolve("snapshots"))).toList();
            FileTree.delete(stateDir);
            assertEquals(List.of(), left, "only the snapshot (kept by design) may remain");
        }
    }
}
