package io.jenkins.plugins.qemu.engine.image;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A base image resolved inside the catalog: the read-only disk every overlay of this image is
 * backed by, and, where the image boots that way, the kernel, initrd and command line for direct
 * kernel boot (which skips firmware and the boot loader). Paths are absolute and have already
 * been checked to lie inside the catalog directory. {@code fastPath} says the image carries the
 * unit that takes the VM's identity from fw_cfg, so cloud-init can be skipped at boot;
 * {@code warmStart} says it also carries the service that gives a restored warm snapshot its new
 * identity over virtio-serial, so VMs of this image can be restored instead of booted.
 * {@code virtualSize} is the disk's size in bytes as the manifest records it, 0 when it does not.
 * {@code systemdCredentials} says a boot of the image found a systemd that can take the VM's
 * identity as credentials over fw_cfg (see ImageProbe), so a cold boot can skip cloud-init
 * without anything of ours in the image.
 */
public record BaseImage(
        String name,
        Path disk,
        String format,
        Path kernel,
        Path initrd,
        String append,
        String defaultUser,
        boolean cloudInit,
        boolean fastPath,
        long virtualSize,
        boolean warmStart,
        boolean systemdCredentials) {

    /** An image whose systemd was not found able to take credentials. */
    public BaseImage(String name, Path disk, String format, Path kernel, Path initrd, String append, String defaultUser,
            boolean cloudInit, boolean fastPath, long virtualSize, boolean warmStart) {
        this(name, disk, format, kernel, initrd, append, defaultUser, cloudInit, fastPath, virtualSize, warmStart, false);
    }

    /** An image without the warm-snapshot service. */
    public BaseImage(String name, Path disk, String format, Path kernel, Path initrd, String append, String defaultUser,
            boolean cloudInit, boolean fastPath, long virtualSize) {
        this(name, disk, format, kernel, initrd, append, defaultUser, cloudInit, fastPath, virtualSize, false);
    }

    /** An image without our fast-path boot unit. */
    public BaseImage(String name, Path disk, String format, Path kernel, Path initrd, String append, String defaultUser,
            boolean cloudInit) {
        this(name, disk, format, kernel, initrd, append, defaultUser, cloudInit, false, 0, false);
    }

    /**
     * Whether the boot that makes this image's warm snapshot takes its identity from a cloud-init
     * seed (and, without our service, installs the service through it) rather than from fw_cfg;
     * a restore must then have the seed's CD-ROM drive too, empty.
     */
    public boolean snapshotBootUsesSeed() {
        return !(fastPath && warmStart);
    }

    /** The same image booted from another disk, e.g. a warm snapshot's frozen layer on top of it. */
    public BaseImage withDisk(Path otherDisk, String otherFormat) {
        return new BaseImage(name, otherDisk, otherFormat, kernel, initrd, append, defaultUser, cloudInit, fastPath, virtualSize,
                warmStart, systemdCredentials);
    }

    public Optional<Path> kernelPath() {
        return Optional.ofNullable(kernel);
    }

    public Optional<Path> initrdPath() {
        return Optional.ofNullable(initrd);
    }

    public Optional<String> kernelAppend() {
        return Optional.ofNullable(append);
    }
}
