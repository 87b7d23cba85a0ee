package io.jenkins.plugins.qemu.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a snapshot boot's guest said about itself, read and kept beside the manifest. */
class ImageProbeTest {
    private static final Instant NOW = Instant.parse("2026-12-02T22:00:00Z");

    @Test
    void aStockGuestHasCloudInitAndNoFastPathUnit() {
        ImageProbe p = ImageProbe.fromGuest("/usr/bin/cloud-init 25.1.4\nabsent\n", NOW);
        assertEquals("/usr/bin/cloud-init 25.1.4", p.cloudInit());
        assertFalse(p.cloudInitAbsent());
        assertEquals(Boolean.FALSE, p.fastPathUnit());
        assertEquals(NOW.toString(), p.checkedAt());
    }

    @Test
    void ourGuestHasTheUnitAndAGuestWithoutCloudInitSaysSo() {
        ImageProbe ours = ImageProbe.fromGuest("/usr/bin/cloud-init 22.4.2\nenabled\n", NOW);
        assertEquals(Boolean.TRUE, ours.fastPathUnit());
        ImageProbe bare = ImageProbe.fromGuest("bash: line 1: cloud-init: command not found\nabsent\n", NOW);
        assertTrue(bare.cloudInitAbsent(), bare.cloudInit());
        assertEquals(Boolean.FALSE, bare.fastPathUnit());
    }

    @Test
    void writtenAtomicallyAndReadBackWithTheVerdict(@TempDir Path dir) throws Exception {
        assertNull(ImageProbe.read(dir), "never probed");
        ImageProbe p = ImageProbe.fromGuest("/usr/bin/cloud-init 25.1.4\nabsent\n", NOW).withWarmStart("ok (installed by cloud-init)");
        p.write(dir);
        assertEquals(p, ImageProbe.read(dir));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left beside it");
        }
        Files.writeString(dir.resolve(ImageProbe.FILE), "{ not json");
        assertNull(ImageProbe.read(dir), "an unreadable probe is ignored, not an error");
    }
}
