package io.jenkins.plugins.qemu.engine.image;

import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Removes an image from the catalog unless something still uses it (see {@link ImageUsage}).
 * The folder is first renamed to a hidden name, so no new VM can resolve the image, and usage is
 * checked once more after the rename: a VM that started in between is caught and the image is put
 * back instead of being deleted underneath it.
 */
public final class ImageRemover {
    private final ImageCatalog catalog;
    private final ImageUsage usage;

    public ImageRemover(ImageCatalog catalog, ImageUsage usage) {
        this.catalog = catalog;
        this.usage = usage;
    }

    public void remove(String name, Consumer<String> progress) throws IOException {
        Path dir = catalog.imageDir(name);
        Path root = catalog.root();
        if (!Files.isDirectory(root)) {
            throw new InvalidInputException("image", name, "is not in the image catalog " + root + " (no such directory)");
        }
        try (CatalogLock lock = CatalogLock.acquire(root, name, progress)) {
            ImagePuller.removeLeftovers(root, name);
            if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw new InvalidInputException("image", name, "is not in the image catalog " + root);
            }
            refuseIfUsed(name, ImagePuller.filesOf(dir));
            Path trash = Files.createTempDirectory(root, "." + name + "~rm-");
            Files.delete(trash);
            Files.move(dir, trash, StandardCopyOption.ATOMIC_MOVE);
            List<Path> both = new ArrayList<>(ImagePuller.filesOf(trash));
            for (Path f : ImagePuller.filesOf(trash)) {
                both.add(dir.resolve(f.getFileName()));
            }
            try {
                refuseIfUsed(name, both);
            } catch (InvalidInputException e) {
                Files.move(trash, dir, StandardCopyOption.ATOMIC_MOVE);
                throw e;
            }
            FileTree.delete(trash);
            progress.accept(name + ": removed from " + root);
        }
    }

    private void refuseIfUsed(String name, List<Path> files) throws IOException {
        List<String> users = usage.usersOf(files);
        if (!users.isEmpty()) {
            throw new InvalidInputException("image", name, "is in use and was not removed: " + String.join(", ", users));
        }
    }
}
