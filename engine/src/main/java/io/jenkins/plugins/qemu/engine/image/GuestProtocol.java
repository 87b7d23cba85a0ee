package io.jenkins.plugins.qemu.engine.image;

/**
 * The host-guest protocols an image's manifest can promise, and the names both sides agree on.
 * They live with the image because the manifest is what declares them; the seed (fw_cfg items),
 * the VM's device model (the identity port) and the warm restore read them from here, so the
 * image package needs none of those.
 */
public final class GuestProtocol {
    /** Manifest {@code fastPath}: the image carries the unit reading the fw_cfg identity items. */
    public static final String FW_CFG_IDENTITY = "fw_cfg-1";
    /** Manifest {@code warmStart}: the image carries the service answering on {@link #IDENTITY_PORT}. */
    public static final String CLONE_IDENTITY = "virtio-serial-1";
    /** The virtio-serial port name the guest's identity service opens after a restore. */
    public static final String IDENTITY_PORT = "io.jenkins.qemu-agents.0";

    private GuestProtocol() {}
}
