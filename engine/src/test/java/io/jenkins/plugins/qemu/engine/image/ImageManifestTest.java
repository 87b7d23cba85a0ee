package io.jenkins.plugins.qemu.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The manifest keeps the builder's JSON shape and refuses fields that could escape or mislead. */
class ImageManifestTest {
    /** Exactly what images/build-debian-12.sh writes. */
    static final String BUILDER_MANIFEST = "{\n"
            + "  \"name\": \"debian-12\",\n  \"format\": \"qcow2\",\n  \"disk\": \"disk.qcow2\",\n"
            + "  \"kernel\": \"vmlinuz\",\n  \"initrd\": \"initrd.img\",\n"
            + "  \"append\": \"root=/dev/vda rw console=ttyS0,115200n8 edd=off net.ifnames=0 mitigations=off\",\n"
            + "  \"defaultUser\": \"debian\",\n  \"cloudInit\": true,\n  \"minMemoryMiB\": 512,\n"
            + "  \"sha256\": \"5af7cbbdc84170ce3cb44b3bfc1dc4599b124b017a802e2dfb116fa2e0600881\",\n"
            + "  \"virtualSize\": 4294967296,\n  \"kernelVersion\": \"6.1.0-56-amd64\",\n"
            + "  \"addedAt\": \"2026-11-25T08:48:27Z\"\n}\n";

    @TempDir
    Path dir;

    private ImageManifest manifest(String disk, String kernel, String append, String user) {
        return new ImageManifest("x", "qcow2", disk, kernel, null, append, user, null, null, null, null, null, null, null, null);
    }

    @Test
    void readsTheBuildersManifestAndWritesTheSameShape() throws IOException {
        Path file = Files.writeString(dir.resolve("manifest.json"), BUILDER_MANIFEST);
        ImageManifest m = ImageManifest.read(file).validate("debian-12");
        assertEquals("vmlinuz", m.kernel());
        assertEquals(512L, m.minMemoryMiB());
        assertEquals(4294967296L, m.virtualSize());
        assertEquals("6.1.0-56-amd64", m.kernelVersion());
        assertTrue(m.runsCloudInit());
        assertTrue(m.kernelBoot());

        m.write(dir.resolve("again.json"));
        assertEquals(m, ImageManifest.read(dir.resolve("again.json")));
        String json = Files.readString(dir.resolve("again.json"));
        assertFalse(json.contains("null"), "absent fields are left out: " + json);
        assertTrue(json.contains("\"minMemoryMiB\" : 512"), json);
    }

    @Test
    void refusesMembersThatLeaveTheFolder() {
        for (String bad : new String[] {"../disk.qcow2", "/etc/passwd", "sub/disk", ".hidden", ""}) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> manifest(bad, null, null, null).validate("x"));
            assertEquals("image 'x' manifest disk", e.field());
            e = assertThrows(InvalidInputException.class, () -> manifest("disk.qcow2", bad, null, null).validate("x"));
            assertEquals("image 'x' manifest kernel", e.field());
        }
    }

    @Test
    void refusesOtherBadFields() {
        assertEquals("image 'x' manifest append", assertThrows(InvalidInputException.class,
                () -> manifest("disk.qcow2", "vmlinuz", "a\nb", null).validate("x")).field());
        assertEquals("image 'x' manifest defaultUser", assertThrows(InvalidInputException.class,
                () -> manifest("disk.qcow2", null, null, "Bad User").validate("x")).field());
        assertEquals("image 'y' manifest name", assertThrows(InvalidInputException.class,
                () -> manifest("disk.qcow2", null, null, null).validate("y")).field());
        ImageManifest vmdk = new ImageManifest("x", "vmdk", "d", null, null, null, null, null, null, null, null, null, null, null, null);
        assertEquals("image 'x' manifest format", assertThrows(InvalidInputException.class, () -> vmdk.validate("x")).field());
        ImageManifest badSha = new ImageManifest("x", "raw", "d", null, null, null, null, null, null, "abc", null, null, null, null, null);
        assertEquals("image 'x' manifest sha256", assertThrows(InvalidInputException.class, () -> badSha.validate("x")).field());
        // root is a legitimate default user of an image (it is refused only as the agent's login).
        manifest("disk.qcow2", null, null, "root").validate("x");
    }

    @Test
    void aBrokenManifestIsAClearError() throws IOException {
        Path file = Files.writeString(dir.resolve("manifest.json"), "{ not json");
        IOException e = assertThrows(IOException.class, () -> ImageManifest.read(file));
        assertTrue(e.getMessage().contains("is not a valid image manifest"), e.getMessage());
    }

    @Test
    void sha256SumsReadsGnuAndBsdLines() {
        String a = "a".repeat(64);
        String b = "B".repeat(64);
        Sha256Sums sums = new Sha256Sums(a + "  debian-12-genericcloud-amd64.qcow2\n"
                + "SHA256 (Fedora-Cloud-Base-41.qcow2) = " + b + "\n"
                + a + " *./star.img\n"
                + "garbage line\n"
                + a + "  twice.img\n" + b + "  twice.img\n");
        assertEquals(Optional.of(a), sums.lookup(java.net.URI.create("https://cloud.debian.org/x/debian-12-genericcloud-amd64.qcow2")));
        assertEquals(Optional.of(b.toLowerCase()), sums.lookup(java.net.URI.create("https://x/Fedora-Cloud-Base-41.qcow2?mirror=1")));
        assertEquals(Optional.of(a), sums.lookup(java.net.URI.create("file:///srv/star.img")));
        assertEquals(Optional.empty(), sums.lookup(java.net.URI.create("https://x/twice.img")), "contradictory lines");
        assertEquals(Optional.empty(), sums.lookup(java.net.URI.create("https://x/missing.img")));
    }
}
