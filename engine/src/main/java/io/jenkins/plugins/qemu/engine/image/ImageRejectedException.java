package io.jenkins.plugins.qemu.engine.image;

import java.io.IOException;

/**
 * A download or a catalog entry that must not be used as a VM disk: wrong checksum, truncated,
 * not a disk image, or referring to host files outside itself. Distinct from a plain I/O failure
 * so callers can tell "this image is bad" from "the network or the disk failed"; the message names
 * the image and says what was wrong.
 */
public final class ImageRejectedException extends IOException {
    private static final long serialVersionUID = 1L;

    public ImageRejectedException(String message) {
        super(message);
    }
}
