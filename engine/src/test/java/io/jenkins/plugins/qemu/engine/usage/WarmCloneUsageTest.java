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
 * guest's writes since the restore and its overlay's growth over the snapshot's frozen layer.
 */
class WarmCloneUsageTest {
    private static final long MIB = 1 << 20;

    @Test
    void aRestoredCloneReportsItsOwnUsage() throws Exception {
        Path stateDir = TestImages.shortTempDir();
        try (QemuEngine engine = new QemuEngine(TestImages.config(stateDir))) {
            VmSpec spec = TestImages.guestSpec().warmStart(true).build();
            engine.prepareWarmSnapshot(spec);
            Vm vm = engine.boot(spec, line -> { });
            VmUsage after;
            try {
                assertTrue(vm.restored(), "restored, not booted: " + vm.coldBootReason());
                VmUsage online = vm.usage();
                TestImages.run(vm, "dd if=/dev/urandom of=/var/tmp/z bs=1M count=32 oflag=direct status=none");
                after = vm.usage();
                System.out.println("warm clone after writing 32 MiB: " + after.summary());
                assertTrue(online.vcpuNanos() >= 0 && after.vcpuNanos() > online.vcpuNanos(), online + " -> " + after);
                assertTrue(after.diskWrittenBytes() - online.diskWrittenBytes() >= 32 * MIB, online + " -> " + after);
                assertTrue(after.overlayGrowthBytes() >= 32 * MIB, after.toString());
                assertTrue(after.rssBytes() > 0 && after.peakRssBytes() >= after.rssBytes(), after.toString());
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
