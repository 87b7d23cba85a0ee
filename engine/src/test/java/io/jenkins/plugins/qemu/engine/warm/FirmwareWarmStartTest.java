package io.jenkins.plugins.qemu.engine.warm;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.image.BaseImage;
import io.jenkins.plugins.qemu.engine.image.ImageCatalog;
import io.jenkins.plugins.qemu.engine.vm.Accel;
import io.jenkins.plugins.qemu.engine.vm.AccelDecision;
import io.jenkins.plugins.qemu.engine.vm.AcceleratorProbe;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import io.jenkins.plugins.qemu.engine.vm.WarmStart;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An image without a kernel in its manifest boots through firmware, where warm start is not
 * offered: the VM boots cold, says why in one log line ("cold boot: " + the reason, see Vm), and
 * no snapshot build is queued. A real firmware-booted image is not built here (it needs a boot
 * loader installed into the disk, which the image scripts avoid: no loop devices), so this is the
 * decision alone, made by the same code a booting VM asks.
 */
class FirmwareWarmStartTest {
    @TempDir
    Path tmp;

    @Test
    void aFirmwareImageBootsColdWithOneLineSayingWhyAndQueuesNoBuild() throws Exception {
        Path disk = Files.createFile(tmp.resolve("disk.qcow2"));
        BaseImage firmware = new BaseImage("vendor-cloud", disk, "qcow2", null, null, null, "debian", true);
        BaseImage direct = new BaseImage("vendor-cloud", disk, "qcow2", tmp.resolve("vmlinuz"), null, "root=/dev/vda1", "debian", true);
        AtomicInteger vmsMade = new AtomicInteger();
        try (WarmStarts warm = new WarmStarts(new SnapshotStore(tmp.resolve("state")), "7.2.22", new ImageCatalog(tmp.resolve("images")),
                new AcceleratorProbe(Path.of("/nonexistent/qemu"), tmp, Duration.ofSeconds(1), tmp.resolve("no-kvm")), (spec, prep) -> {
                    vmsMade.incrementAndGet();
                    throw new AssertionError("no snapshot build may start");
                }, io.jenkins.plugins.qemu.engine.vm.SnapshotBuildGate.ALWAYS)) {
            VmSpec spec = VmSpec.builder().image("vendor-cloud").warmStart(true).build();
            AccelDecision tcg = new AccelDecision(Accel.TCG, "test");
            WarmStart.Plan plan = warm.plan(spec, firmware, tcg);
            assertNull(plan.restore());
            String line = "cold boot: " + plan.coldReason();
            assertTrue(line.contains("boots through firmware") && line.contains("direct kernel boot"), line);
            assertFalse(line.contains("\n"), "one log line");
            assertFalse(warm.choose(spec, firmware, tcg).buildable(), "no build is queued for a firmware image");
            // The same image with a kernel is eligible: the refusal is about the boot path, nothing else.
            assertFalse(warm.choose(spec, direct, tcg).reason().contains("firmware"), warm.choose(spec, direct, tcg).reason());
            Thread.sleep(200);
            assertTrue(vmsMade.get() == 0, "no VM was made");
        }
    }
}
