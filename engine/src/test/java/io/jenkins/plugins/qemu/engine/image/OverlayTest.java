package io.jenkins.plugins.qemu.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Overlays of a requested size, made by the real qemu-img on a small empty base disk. */
class OverlayTest {
    private static final long GIB = 1L << 30;

    @TempDir
    Path dir;

    /** An empty 2 GiB qcow2: a few hundred KiB on disk, so the sizes can be real without costing space. */
    private BaseImage base(long manifestVirtualSize) throws Exception {
        Path disk = dir.resolve("base.qcow2");
        if (!Files.exists(disk)) {
            TestDisks.qemuImg("create", "-q", "-f", "qcow2", disk.toString(), Long.toString(2 * GIB));
        }
        return new BaseImage("small", disk, "qcow2", null, null, null, null, true, false, manifestVirtualSize);
    }

    private static long virtualSize(Path overlay) throws Exception {
        return TestDisks.qemuImg().info(overlay, "qcow2").virtualSize();
    }

    @Test
    void argvNamesFormatsBackingFileAndSizeInBytes() {
        assertEquals(List.of("create", "-q", "-f", "qcow2", "-F", "raw", "-b", "/img/d.raw", "/vm/o.qcow2", "6442450944"),
                QemuImg.overlayArgs(Path.of("/img/d.raw"), "raw", Path.of("/vm/o.qcow2"), 6 * GIB));
        assertEquals(List.of("create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", "/img/d.qcow2", "/vm/o.qcow2"),
                QemuImg.overlayArgs(Path.of("/img/d.qcow2"), "qcow2", Path.of("/vm/o.qcow2"), 0));
    }

    @Test
    void withoutASizeTheOverlayHasTheImagesSizeAndNothingGrows() throws Exception {
        try (Overlay o = Overlay.create(TestDisks.qemuImg(), base(2 * GIB), dir.resolve("o.qcow2"), 0)) {
            assertEquals(2 * GIB, virtualSize(o.file()));
            assertFalse(o.grown());
        }
    }

    @Test
    void aLargerSizeMakesALargerOverlayBackedByTheImage() throws Exception {
        BaseImage base = base(2 * GIB);
        try (Overlay o = Overlay.create(TestDisks.qemuImg(), base, dir.resolve("o.qcow2"), 6 * 1024)) {
            assertEquals(6 * GIB, virtualSize(o.file()));
            assertEquals(base.disk().toString(), ImageUsage.backingFile(o.file()));
            assertTrue(o.grown());
        }
        assertFalse(Files.exists(dir.resolve("o.qcow2")));
    }

    @Test
    void exactlyTheImagesSizeIsAcceptedButNothingGrows() throws Exception {
        try (Overlay o = Overlay.create(TestDisks.qemuImg(), base(2 * GIB), dir.resolve("o.qcow2"), 2 * 1024)) {
            assertEquals(2 * GIB, virtualSize(o.file()));
            assertFalse(o.grown());
        }
    }

    @Test
    void aSmallerSizeIsRefusedNamingFieldValueAndImageSizeAndCreatesNothing() throws Exception {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> Overlay.create(TestDisks.qemuImg(), base(2 * GIB), dir.resolve("o.qcow2"), 1024));
        assertEquals("diskSize", e.field());
        assertEquals("1G", e.value());
        assertTrue(e.getMessage().startsWith("diskSize: '1G' is smaller than the disk of image 'small' (2G)"), e.getMessage());
        assertTrue(e.getMessage().contains("give at least 2G"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("o.qcow2")));
    }

    @Test
    void withoutAManifestSizeQemuImgIsAskedSoTheCheckStillHolds() throws Exception {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> Overlay.create(TestDisks.qemuImg(), base(0), dir.resolve("o.qcow2"), 1024));
        assertTrue(e.getMessage().contains("(2G)"), e.getMessage());
        try (Overlay o = Overlay.create(TestDisks.qemuImg(), base(0), dir.resolve("o.qcow2"), 3 * 1024)) {
            assertEquals(3 * GIB, virtualSize(o.file()));
            assertTrue(o.grown());
        }
    }

    @Test
    void anImageSizeThatIsNoWholeMebibyteIsShownInBytesAndRoundedUp() throws Exception {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> Overlay.create(TestDisks.qemuImg(), base(2 * GIB + 512), dir.resolve("o.qcow2"), 2 * 1024));
        assertTrue(e.getMessage().contains("(2147484160 bytes)") && e.getMessage().contains("give at least 2049M"), e.getMessage());
    }
}
