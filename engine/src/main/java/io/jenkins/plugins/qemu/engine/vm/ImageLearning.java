package io.jenkins.plugins.qemu.engine.vm;

import io.jenkins.plugins.qemu.engine.image.BaseImage;
import io.jenkins.plugins.qemu.engine.image.ImageProbe;
import java.time.Duration;
import java.time.Instant;
import java.util.logging.Logger;

/** What a VM's first boot finds out about its image, recorded for the image's next boots (see {@link #learn}). */
final class ImageLearning {
    private static final Logger LOG = Logger.getLogger(ImageLearning.class.getName());

    private ImageLearning() {}

    /**
     * The first cloud-init boot of an image whose systemd has not been probed asks the guest (one
     * SSH command, after the VM is online, so not in its time to online) and records the answer, so
     * the image's next cold boots can take their identity as systemd credentials. The warm-start
     * verdict already recorded is kept. A probe is advice: a failure is logged and changes nothing.
     */
    static void learn(Vm vm, io.jenkins.plugins.qemu.engine.image.ImageCatalog catalog, BaseImage image) {
        try {
            java.nio.file.Path dir = catalog.imageDir(image.name());
            ImageProbe known = ImageProbe.read(dir);
            if (known != null && known.systemd() != null) {
                return;
            }
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            if (vm.exec(ImageProbe.GUEST_COMMAND, out, java.io.OutputStream.nullOutputStream(), Duration.ofMinutes(1)) != 0) {
                return;
            }
            ImageProbe found = ImageProbe.fromGuest(out.toString(java.nio.charset.StandardCharsets.UTF_8), Instant.now());
            catalog.recordProbe(image.name(), known == null ? found : found.withWarmStart(known.warmStart()));
            LOG.info("[" + vm.id() + "] image '" + image.name() + "': systemd " + found.systemd() + ", systemd-networkd "
                    + (Boolean.TRUE.equals(found.networkd()) ? "enabled" : "not enabled") + "; its cold boots "
                    + (found.takesSystemdCredentials() ? "take their identity as systemd credentials from now on" : "stay on cloud-init"));
        } catch (java.io.IOException | RuntimeException e) {
            LOG.fine(() -> "[" + vm.id() + "] probing image '" + image.name() + "' failed: " + e);
        }
    }
}
