package io.jenkins.plugins.qemu.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code images rm} refuses an image a VM still uses, seen either as an overlay in a VM folder of
 * the state directory or as a process holding the disk open, and removes it completely otherwise.
 */
class ImageRemoverTest {
    @TempDir
    Path catalogDir;
    @TempDir
    Path stateDir;
    private ImageCatalog catalog;
    private ImageRemover remover;

    @BeforeEach
    void install() throws Exception {
        catalog = new ImageCatalog(catalogDir);
        Path disk = TestDisks.qcow2(stateDir, "src.qcow2");
        try (ImagePuller p = new ImagePuller(catalog, TestDisks.qemuImg(), new ImageUsage(List.of()), new Downloader())) {
            p.pull(PullRequest.builder().name("base").url(disk.toUri()).sha256(Sha256.of(disk)).build(), l -> { });
        }
        Files.delete(disk);
        remover = new ImageRemover(catalog, new ImageUsage(List.of(stateDir)));
    }

    @Test
    void refusedWhileAnOverlayInTheStateDirectoryIsBackedByIt() throws Exception {
        BaseImage base = catalog.resolve("base");
        Path vmDir = Files.createDirectories(stateDir.resolve("vm-1234"));
        try (Overlay overlay = Overlay.create(TestDisks.qemuImg(), base, vmDir.resolve("overlay.qcow2"))) {
            assertEquals(base.disk().toString(), ImageUsage.backingFile(overlay.file()));
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> remover.remove("base", l -> { }));
            assertTrue(e.getMessage().contains("is in use") && e.getMessage().contains("vm-1234"), e.getMessage());
            assertEquals(List.of("base"), catalog.names(), "still listed");
            assertEquals(List.of("base", "base/disk.qcow2", "base/manifest.json"), sorted(TestDisks.leftovers(catalogDir)));
            // Nor can it be replaced underneath the VM.
            try (ImagePuller p = new ImagePuller(catalog, TestDisks.qemuImg(), new ImageUsage(List.of(stateDir)), new Downloader())) {
                PullRequest again = PullRequest.builder().name("base").url(URI.create("file:///nonexistent.qcow2"))
                        .sha256("00".repeat(32)).replace(true).build();
                e = assertThrows(InvalidInputException.class, () -> p.pull(again, l -> { }));
                assertTrue(e.getMessage().contains("cannot be replaced") && e.getMessage().contains("vm-1234"), e.getMessage());
            }
        }
        remover.remove("base", l -> { });
        assertEquals(List.of(), TestDisks.leftovers(catalogDir));
    }

    @Test
    void refusedWhileAProcessHoldsTheDiskOpen() throws Exception {
        Path disk = catalog.resolve("base").disk();
        Process holder = new ProcessBuilder("sh", "-c", "exec 3<\"$0\"; echo ready; exec sleep 60", disk.toString()).start();
        try (InputStream out = holder.getInputStream()) {
            out.read(); // the shell has the file open once it prints
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> remover.remove("base", l -> { }));
            assertTrue(e.getMessage().contains("process " + holder.pid()), e.getMessage());
            assertTrue(Files.exists(disk));
        } finally {
            holder.destroyForcibly().waitFor();
        }
        remover.remove("base", l -> { });
        assertFalse(Files.exists(catalogDir.resolve("base")));
        assertEquals(List.of(), TestDisks.leftovers(catalogDir));
    }

    @Test
    void unknownAndEscapingNamesAreRefused() {
        assertEquals("image", assertThrows(InvalidInputException.class, () -> remover.remove("nope", l -> { })).field());
        assertEquals("image", assertThrows(InvalidInputException.class, () -> remover.remove("../base", l -> { })).field());
    }

    private static List<String> sorted(List<String> l) {
        l.sort(null);
        return l;
    }
}
