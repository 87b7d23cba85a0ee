package io.jenkins.plugins.qemu.engine.vm;

import static io.jenkins.plugins.qemu.engine.testing.TestImages.IMAGE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.testing.TestEngine;
import io.jenkins.plugins.qemu.engine.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A disk larger than the image, against real QEMU and the real guest: the guest sees the larger
 * disk and its root filesystem has grown into it by the time SSH works, on the fast path and on
 * the cloud-init path; a disk smaller than the image is refused before QEMU starts.
 */
class DiskSizeTest {
    @RegisterExtension
    static final TestEngine ENGINE = new TestEngine();
    private static final long GIB = 1L << 30;

    private static VmSpec.Builder spec() {
        return TestImages.guestSpec().diskSizeMiB(6 * 1024);
    }

    @Test
    void fastPathGuestGrowsItsFilesystemIntoTheLargerDisk() throws Exception {
        assertTrue(ENGINE.engine().catalog().resolve(IMAGE).fastPath(), "the test image has the fast-path unit");
        Vm vm = ENGINE.engine().boot(spec().build(), line -> { });
        try {
            assertTrue(Files.exists(vm.stateDir().resolve("identity/grow_fs")), "booted on the fast path, told to grow");
            assertGrown(vm);
        } finally {
            destroyAndAssertGone(vm);
        }
    }

    @Test
    void cloudInitGuestGrowsItsFilesystemIntoTheLargerDisk() throws Exception {
        // Extra cloud-config forces the NoCloud seed even on an image with the fast path.
        Vm vm = ENGINE.engine().boot(spec().extraUserData("bootcmd: [[touch, /run/qa-extra]]").build(), line -> { });
        try {
            assertTrue(Files.exists(vm.stateDir().resolve("seed.iso")), "booted through cloud-init");
            assertEquals("", TestImages.run(vm, "test -e /run/qa-extra"), "the extra cloud-config ran");
            assertGrown(vm);
        } finally {
            destroyAndAssertGone(vm);
        }
    }

    @Test
    void aDiskSmallerThanTheImageFailsTheBootInTheOverlayPhaseNamingBothSizes() throws Exception {
        VmSpec spec = spec().diskSizeMiB(2 * 1024).build();
        VmBootException e = assertThrows(VmBootException.class, () -> ENGINE.engine().boot(spec, line -> { }));
        assertEquals(Phase.OVERLAY, e.phase());
        assertTrue(e.getMessage().contains("diskSize: '2G' is smaller than the disk of image '" + IMAGE + "' (4G)"), e.getMessage());
        assertTrue(e.getMessage().contains("give at least 4G"), e.getMessage());
        assertEquals(List.of(), TestImages.processesMentioning(spec.vmId()));
        assertFalse(Files.exists(ENGINE.stateDir().resolve(spec.vmId())), "nothing of the VM is left");
    }

    /** The disk the guest sees is the requested size, and the mounted root filesystem fills most of it. */
    private static void assertGrown(Vm vm) throws Exception {
        long disk = Long.parseLong(TestImages.run(vm, "cat /sys/block/vda/size")) * 512;
        assertEquals(6 * GIB, disk, "the guest's disk");
        List<String> df = TestImages.run(vm, "df -B1 --output=size /").lines().toList();
        long root = Long.parseLong(df.get(df.size() - 1).strip());
        assertTrue(root > 5 * GIB, "root filesystem is " + root + " bytes, not grown beyond the image's 4 GiB: " + df);
    }

    private static void destroyAndAssertGone(Vm vm) throws Exception {
        long pid = vm.pid();
        Path dir = vm.stateDir();
        vm.destroy();
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "QEMU is gone");
        assertEquals(List.of(), TestImages.processesMentioning(vm.id()));
        assertFalse(Files.exists(dir), "state directory removed");
    }

}
