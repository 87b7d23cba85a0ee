package io.jenkins.plugins.qemu.engine.seed;

import io.jenkins.plugins.qemu.engine.config.QemuArgs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The NoCloud seed of one VM on disk: an ISO9660 volume labelled {@code cidata}, written owner-only
 * because it carries the guest's private host key. Closing deletes it; closing twice is harmless.
 */
public final class SeedIso implements GuestIdentity {
    public static final String VOLUME_ID = "cidata";
    /**
     * SMBIOS serial number that tells cloud-init's ds-identify the datasource is NoCloud, so it
     * probes no other (EC2, OpenStack, Azure... each costs time under emulation). Unlike the kernel
     * command line it reaches images booted by firmware too.
     */
    static final String NOCLOUD_SMBIOS = "type=1,serial=ds=nocloud";

    private final Path file;

    private SeedIso(Path file) {
        this.file = file;
    }

    public static SeedIso write(CloudInitConfig config, Path file) throws IOException {
        try {
            new IsoImageWriter(VOLUME_ID, java.time.Instant.now())
                    .addFile("meta-data", config.metaData())
                    .addFile("user-data", config.userData())
                    .addFile("network-config", config.networkConfig())
                    .write(file);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(file);
            throw e;
        }
        return new SeedIso(file);
    }

    public Path file() {
        return file;
    }

    /** An IDE CD-ROM: the one device every cloud-init image's kernel can read at boot. */
    @Override
    public java.util.List<String> qemuArgs() {
        return java.util.List.of("-drive", "file=" + QemuArgs.escape(file) + ",if=none,id=seed0,format=raw,media=cdrom,readonly=on",
                "-device", "ide-cd,drive=seed0", "-smbios", NOCLOUD_SMBIOS);
    }

    /**
     * The CD-ROM drive of {@link #qemuArgs()} without a disc, for restoring a snapshot that was
     * booted with a seed: QEMU only loads a saved state into the same device model, and the
     * restored clone gets its identity over the virtio-serial port, never from a seed.
     */
    public static java.util.List<String> emptyDriveArgs() {
        return java.util.List.of("-drive", "if=none,id=seed0,media=cdrom,readonly=on", "-device", "ide-cd,drive=seed0",
                "-smbios", NOCLOUD_SMBIOS);
    }

    @Override
    public String kernelArgs() {
        return "";
    }

    @Override
    public void close() throws IOException {
        Files.deleteIfExists(file);
    }
}
