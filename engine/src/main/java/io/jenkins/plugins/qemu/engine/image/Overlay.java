package io.jenkins.plugins.qemu.engine.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The per-VM copy-on-write disk: a qcow2 backed by a base image, so the base is never written and
 * a VM's changes vanish with it. Closing deletes the file; closing twice is harmless.
 */
public final class Overlay implements AutoCloseable {
    private final Path file;
    private final BaseImage base;

    private Overlay(Path file, BaseImage base) {
        this.file = file;
        this.base = base;
    }

    public static Overlay create(QemuImg qemuImg, BaseImage base, Path file) throws IOException {
        try {
            qemuImg.createOverlay(base.disk(), base.format(), file);
        } catch (IOException e) {
            Files.deleteIfExists(file);
            throw new IOException("creating overlay " + file + " on image '" + base.name() + "' failed: " + e.getMessage(), e);
        }
        return new Overlay(file, base);
    }

    public Path file() {
        return file;
    }

    public BaseImage base() {
        return base;
    }

    @Override
    public void close() throws IOException {
        Files.deleteIfExists(file);
    }
}
