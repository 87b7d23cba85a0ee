package io.jenkins.plugins.qemu.engine.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code images build}: the jar carries the repository's builder script byte for byte, and runs it
 * into the catalog. A full build takes many minutes and network access, so here the script meets
 * an image that exists and takes its documented idempotent exit.
 */
class ImageBuilderTest {
    @TempDir
    Path catalogDir;

    @Test
    void shipsTheRepositoryScriptUnchanged() throws Exception {
        Path repoScript = Path.of(System.getProperty("user.dir")).resolve("../images/build-debian-12.sh").normalize();
        try (InputStream in = ImageBuilder.class.getResourceAsStream("builders/build-debian-12.sh")) {
            assertArrayEquals(Files.readAllBytes(repoScript), in.readAllBytes());
        }
    }

    @Test
    void runsTheScriptIntoTheCatalog() throws Exception {
        Path dir = Files.createDirectories(catalogDir.resolve("debian-12"));
        Path disk = TestDisks.qcow2(dir, "disk.qcow2");
        Files.writeString(dir.resolve("manifest.json"), ImageManifestTest.BUILDER_MANIFEST.replace(
                "5af7cbbdc84170ce3cb44b3bfc1dc4599b124b017a802e2dfb116fa2e0600881", Sha256.of(disk)));
        List<String> log = new ArrayList<>();
        ImageManifest m = new ImageBuilder(new ImageCatalog(catalogDir), Duration.ofMinutes(1)).build("debian-12", log::add);
        assertEquals("debian-12", m.name());
        assertTrue(log.stream().anyMatch(l -> l.contains("already built")), log.toString());
    }

    @Test
    void refusesImagesWithoutABuilder() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> new ImageBuilder(new ImageCatalog(catalogDir), Duration.ofMinutes(1)).build("ubuntu-24.04", l -> { }));
        assertTrue(e.getMessage().contains("images that can be built: debian-12"), e.getMessage());
    }
}
