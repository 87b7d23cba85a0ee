package io.jenkins.plugins.qemu.engine.image;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.config.Validation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The per-VM copy-on-write disk: a qcow2 backed by a base image, so the base is never written and
 * a VM's changes vanish with it. Closing deletes the file; closing twice is harmless.
 */
public final class Overlay implements AutoCloseable {
    private static final long MIB = 1024 * 1024;

    private final Path file;
    private final BaseImage base;
    private final boolean grown;

    private Overlay(Path file, BaseImage base, boolean grown) {
        this.file = file;
        this.base = base;
        this.grown = grown;
    }

    /** An overlay of the image's own size. */
    public static Overlay create(QemuImg qemuImg, BaseImage base, Path file) throws IOException {
        return create(qemuImg, base, file, 0);
    }

    /**
     * An overlay of {@code diskSizeMiB} (0: the image's own size). A size below the image's is
     * refused before anything is created: the guest's filesystem spans the whole image disk, and
     * a shorter disk would cut it off. Only here is the image known, so the spec cannot judge it.
     */
    public static Overlay create(QemuImg qemuImg, BaseImage base, Path file, long diskSizeMiB) throws IOException {
        long size = 0;
        boolean grown = false;
        if (diskSizeMiB > 0) {
            size = Math.multiplyExact(diskSizeMiB, MIB);
            long baseSize = virtualSize(qemuImg, base);
            if (size < baseSize) {
                throw new InvalidInputException("diskSize", Validation.sizeText(diskSizeMiB), "is smaller than the disk of image '"
                        + base.name() + "' (" + bytesText(baseSize) + "): a VM's disk can grow but not shrink; give at least "
                        + Validation.sizeText((baseSize + MIB - 1) / MIB) + " or leave it blank for the image's own size");
            }
            grown = size > baseSize;
        }
        try {
            qemuImg.createOverlay(base.disk(), base.format(), file, size);
        } catch (IOException e) {
            Files.deleteIfExists(file);
            throw new IOException("creating overlay " + file + " on image '" + base.name() + "' failed: " + e.getMessage(), e);
        }
        return new Overlay(file, base, grown);
    }

    /** The manifest's value when it has one; otherwise the disk is asked, which costs a qemu-img run. */
    private static long virtualSize(QemuImg qemuImg, BaseImage base) throws IOException {
        if (base.virtualSize() > 0) {
            return base.virtualSize();
        }
        long size;
        try {
            size = qemuImg.info(base.disk(), base.format()).virtualSize();
        } catch (IOException e) {
            throw new IOException("cannot read the virtual size of image '" + base.name() + "' to check the disk size: "
                    + e.getMessage(), e);
        }
        if (size <= 0) {
            throw new IOException("qemu-img reported no virtual size for image '" + base.name() + "' (" + base.disk() + ")");
        }
        return size;
    }

    private static String bytesText(long bytes) {
        return bytes % MIB == 0 ? Validation.sizeText(bytes / MIB) : bytes + " bytes";
    }

    public Path file() {
        return file;
    }

    public BaseImage base() {
        return base;
    }

    /** Whether the disk is larger than the image's, so the guest has a filesystem to grow. */
    public boolean grown() {
        return grown;
    }

    @Override
    public void close() throws IOException {
        Files.deleteIfExists(file);
    }
}
