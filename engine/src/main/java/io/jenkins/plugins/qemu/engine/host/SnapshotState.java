package io.jenkins.plugins.qemu.engine.host;

import java.io.Serializable;

/**
 * What a host says about a template's warm snapshot: current, missing but buildable, or not
 * possible (then {@code text} says why, e.g. an image without warm start or too many failed
 * attempts); {@code text} is one line for the controller's log and the cloud page.
 */
public record SnapshotState(boolean current, boolean buildable, String text) implements Serializable {
    private static final long serialVersionUID = 1L;
}
