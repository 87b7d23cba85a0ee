package io.jenkins.plugins.qemu.engine.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Re-checks installed images: the manifest is valid and stays inside the catalog, the disk still
 * has the SHA-256 recorded when it was installed, the kernel and initrd exist, and qemu-img still
 * sees the recorded format with no backing or data file outside the image. Reads only.
 */
public final class ImageVerifier {
    private final ImageCatalog catalog;
    private final QemuImg qemuImg;

    public ImageVerifier(ImageCatalog catalog, QemuImg qemuImg) {
        this.catalog = catalog;
        this.qemuImg = qemuImg;
    }

    /** The verdict on one image: {@code problem} is null when it is sound. */
    public record Result(String name, String problem) {
        public boolean ok() {
            return problem == null;
        }
    }

    public List<Result> verifyAll(Consumer<String> progress) throws IOException {
        List<Result> results = new ArrayList<>();
        for (String name : catalog.names()) {
            results.add(verify(name, progress));
        }
        return results;
    }

    public Result verify(String name, Consumer<String> progress) {
        try {
            ImageManifest m = catalog.manifest(name);
            BaseImage image = catalog.resolve(name);
            if (m.sha256() == null) {
                return new Result(name, "the manifest records no sha256 of the disk");
            }
            progress.accept(name + ": hashing " + image.disk());
            String actual = Sha256.of(image.disk());
            if (!actual.equalsIgnoreCase(m.sha256())) {
                return new Result(name, "disk " + image.disk() + " has SHA-256 " + actual + ", the manifest records " + m.sha256());
            }
            for (Path f : new Path[] {image.kernel(), image.initrd()}) {
                if (f != null && !Files.isRegularFile(f)) {
                    return new Result(name, "boot file " + f + " is missing");
                }
            }
            DiskInfo info = qemuImg.info(image.disk(), m.format());
            if (info.externalReference() != null) {
                return new Result(name, "the disk " + info.externalReference());
            }
            if (m.virtualSize() != null && m.virtualSize() != info.virtualSize()) {
                return new Result(name, "virtual size is " + info.virtualSize() + ", the manifest records " + m.virtualSize());
            }
            return new Result(name, null);
        } catch (IOException | RuntimeException e) {
            return new Result(name, e.getMessage());
        }
    }
}
