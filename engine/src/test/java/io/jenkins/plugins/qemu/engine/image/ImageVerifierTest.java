package io.jenkins.plugins.qemu.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code images verify} finds a disk changed after install, a missing kernel, a broken manifest. */
class ImageVerifierTest {
    @TempDir
    Path catalogDir;
    @TempDir
    Path work;

    @Test
    void detectsChangesAfterInstall() throws Exception {
        ImageCatalog catalog = new ImageCatalog(catalogDir);
        Path disk = TestDisks.qcow2(work, "d.qcow2");
        Path kernel = Files.write(work.resolve("k"), new byte[] {1});
        try (ImagePuller p = new ImagePuller(catalog, TestDisks.qemuImg(), new ImageUsage(List.of()), new Downloader())) {
            for (String name : List.of("good", "tampered", "nokernel")) {
                p.pull(PullRequest.builder().name(name).url(disk.toUri()).sha256(Sha256.of(disk))
                        .kernel(kernel.toUri(), Sha256.of(kernel)).build(), l -> { });
            }
        }
        try (RandomAccessFile f = new RandomAccessFile(catalogDir.resolve("tampered/disk.qcow2").toFile(), "rw")) {
            f.seek(f.length() - 1);
            f.write(0x5a);
        }
        Files.delete(catalogDir.resolve("nokernel/vmlinuz"));
        Files.createDirectories(catalogDir.resolve("broken"));
        Files.writeString(catalogDir.resolve("broken/manifest.json"), "{\"name\":\"broken\",\"format\":\"qcow2\",\"disk\":\"../good/disk.qcow2\"}");

        List<ImageVerifier.Result> results = new ImageVerifier(catalog, TestDisks.qemuImg()).verifyAll(l -> { });
        assertEquals(List.of("broken", "good", "nokernel", "tampered"), results.stream().map(ImageVerifier.Result::name).toList());
        assertTrue(results.get(0).problem().contains("manifest disk"), results.get(0).problem());
        assertTrue(results.get(1).ok(), results.get(1).problem());
        assertTrue(results.get(2).problem().contains("vmlinuz is missing"), results.get(2).problem());
        assertTrue(results.get(3).problem().contains("has SHA-256"), results.get(3).problem());
    }
}
