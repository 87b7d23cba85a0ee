package io.jenkins.plugins.qemu.engine.config;

import java.nio.file.Path;

/**
 * Writing values into QEMU's comma-separated option syntax. Every layer that hands QEMU a path
 * (the seed, the device model, the accelerator probe) needs the same rule, so it lives at the
 * bottom of the layer map rather than in the class that builds the whole command line.
 */
public final class QemuArgs {
    private QemuArgs() {}

    /** QEMU's option parser splits on commas; a literal comma is written twice. */
    public static String escape(Path p) {
        return p.toString().replace(",", ",,");
    }
}
