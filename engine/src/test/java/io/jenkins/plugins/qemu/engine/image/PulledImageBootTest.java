package io.jenkins.plugins.qemu.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.QemuEngine;
import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.testing.TestImages;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The end-to-end proof: the real Debian guest is pulled over HTTP (disk) and file://
 * (kernel, initrd) into a fresh catalog, a VM boots from the pulled image to an SSH login, and
 * while it runs the image cannot be removed; afterwards it can.
 */
class PulledImageBootTest {
    @Test
    void bootsAVmFromAPulledImage() throws Exception {
        Path source = TestImages.imagesDir().resolve(TestImages.IMAGE);
        ImageManifest original = ImageManifest.read(source.resolve("manifest.json"));
        Path catalogDir = TestImages.shortTempDir();
        Path stateDir = TestImages.shortTempDir();
        try (TestHttpServer server = new TestHttpServer()) {
            ImageCatalog catalog = new ImageCatalog(catalogDir);
            long t0 = System.nanoTime();
            try (ImagePuller puller = new ImagePuller(catalog, TestDisks.qemuImg(), new ImageUsage(List.of(stateDir)), new Downloader())) {
                puller.pull(PullRequest.builder().name("pulled-debian")
                        .url(server.serve("/debian-12/disk.qcow2", source.resolve("disk.qcow2")))
                        .sha256(original.sha256())
                        .format("qcow2")
                        .kernel(source.resolve("vmlinuz").toUri(), Sha256.of(source.resolve("vmlinuz")))
                        .initrd(source.resolve("initrd.img").toUri(), Sha256.of(source.resolve("initrd.img")))
                        .append(original.append())
                        .defaultUser(original.defaultUser())
                        .minMemoryMiB(original.minMemoryMiB())
                        .build(), System.err::println);
            }
            System.err.printf("pull of the %d MiB guest took %d ms%n", Files.size(source.resolve("disk.qcow2")) >> 20,
                    (System.nanoTime() - t0) / 1_000_000);

            EngineConfig config = EngineConfig.defaults(catalogDir, "test-pull-" + ProcessHandle.current().pid()).withStateDir(stateDir);
            ImageRemover remover = new ImageRemover(catalog, new ImageUsage(List.of(stateDir)));
            try (QemuEngine engine = new QemuEngine(config)) {
                VmSpec spec = VmSpec.builder().image("pulled-debian").hostname("qa-pulled").cpus(1).memoryMiB(1024)
                        .bootTimeout(Duration.ofMinutes(10)).build();
                Vm vm = engine.boot(spec, line -> { });
                try {
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    assertEquals(0, vm.exec("hostname", out, new ByteArrayOutputStream(), Duration.ofMinutes(2)));
                    assertEquals("qa-pulled", out.toString(StandardCharsets.UTF_8).strip());

                    InvalidInputException e = assertThrows(InvalidInputException.class, () -> remover.remove("pulled-debian", l -> { }));
                    assertTrue(e.getMessage().contains("is in use"), e.getMessage());
                    assertTrue(e.getMessage().contains("overlay.qcow2 is backed by it"), e.getMessage());
                    assertTrue(e.getMessage().contains("qemu-system"), "the running QEMU holds the disk: " + e.getMessage());
                } finally {
                    vm.destroy();
                }
            }
            remover.remove("pulled-debian", l -> { });
            assertFalse(Files.exists(catalogDir.resolve("pulled-debian")));
            assertEquals(List.of(), TestDisks.leftovers(catalogDir));
        } finally {
            FileTree.delete(catalogDir);
            FileTree.delete(stateDir);
        }
    }
}
