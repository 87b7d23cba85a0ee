package io.jenkins.plugins.qemu;

import org.jvnet.localizer.Localizable;
import org.jvnet.localizer.ResourceBundleHolder;

/**
 * The texts Jenkins shows as an offline cause or a queue blockage for QEMU agents, as the
 * {@link Localizable}s those APIs take. Written by hand (and not named {@code Messages}) so the
 * plugin build's message generator cannot clash with it.
 */
final class Reasons {
    private static final ResourceBundleHolder HOLDER = ResourceBundleHolder.get(Reasons.class);

    private Reasons() {}

    /** The offline cause of an agent whose VM is being destroyed. */
    static Localizable agentTerminated(String reason) {
        return new Localizable(HOLDER, "AgentTerminated", reason);
    }
}
