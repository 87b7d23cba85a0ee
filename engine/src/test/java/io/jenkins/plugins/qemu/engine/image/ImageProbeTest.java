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
    void aNewEnoughSystemdWithNetworkdTakesCredentialsAndNothingElseDoes() {
        // systemd 257 answers "not-found" for a unit it does not have.
        ImageProbe trixie = ImageProbe.fromGuest("/usr/bin/cloud-init 25.1.4\nnot-found\nsystemd 257 (257.13-1~deb13u1)\nenabled\n", NOW);
        assertEquals(257, trixie.systemd());
        assertEquals(Boolean.TRUE, trixie.networkd());
        assertEquals(Boolean.FALSE, trixie.fastPathUnit());
        assertTrue(trixie.takesSystemdCredentials());
        ImageProbe bookworm = ImageProbe.fromGuest("/usr/bin/cloud-init 22.4.2\nabsent\nsystemd 252 (252.38-1~deb12u1)\nenabled\n", NOW);
        assertEquals(252, bookworm.systemd());
        assertFalse(bookworm.takesSystemdCredentials(), "tmpfiles' base64 and network credentials need 254");
        ImageProbe fedora = ImageProbe.fromGuest("/usr/bin/cloud-init 24.2\nabsent\nsystemd 256 (256.11-1.fc41)\ndisabled\n", NOW);
        assertFalse(fedora.takesSystemdCredentials(), "NetworkManager would not apply the stated network");
        ImageProbe noSystemd = ImageProbe.fromGuest("/usr/bin/cloud-init 25.1\nabsent\nsh: systemctl: not found\nabsent\n", NOW);
        assertNull(noSystemd.systemd());
        assertFalse(noSystemd.takesSystemdCredentials());
        ImageProbe older = ImageProbe.fromGuest("/usr/bin/cloud-init 25.1.4\nabsent\n", NOW);
        assertFalse(older.takesSystemdCredentials(), "a two-line answer (an older probe) says nothing about systemd");
    }

    @Test
    void aFileWrittenBeforeTheSystemdFactsReadsAsUnknown(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve(ImageProbe.FILE), "{ \"cloudInit\" : \"/usr/bin/cloud-init 25.1.4\", \"fastPathUnit\" : false,"
                + " \"warmStart\" : \"ok (installed by cloud-init)\", \"checkedAt\" : \"2026-12-02T23:16:55Z\" }\n");
        ImageProbe p = ImageProbe.read(dir);
        assertEquals("ok (installed by cloud-init)", p.warmStart());
        assertNull(p.systemd());
        assertFalse(p.takesSystemdCredentials());
    }

    @Test
    void writtenAtomicallyAndReadBackWithTheVerdict(@TempDir Path dir) throws Exception {
        assertNull(ImageProbe.read(dir), "never probed");
        ImageProbe p = ImageProbe.fromGuest("/usr/bin/cloud-init 25.1.4\nabsent\nsystemd 257 (257.13)\nenabled\n", NOW).withWarmStart("ok (installed by cloud-init)");
        p.write(dir);
        assertEquals(p, ImageProbe.read(dir));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left beside it");
        }
        Files.writeString(dir.resolve(ImageProbe.FILE), "{ not json");
        assertNull(ImageProbe.read(dir), "an unreadable probe is ignored, not an error");
    }
}
