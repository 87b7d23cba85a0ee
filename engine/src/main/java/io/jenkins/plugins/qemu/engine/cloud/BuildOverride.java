package io.jenkins.plugins.qemu.engine.cloud;

import java.io.Serializable;

/**
 * What one build asks of its VM beyond its template, as a pipeline step gives it: a null field
 * keeps the template's value. Raw values, judged by {@link TemplateSpec#derive} against what the
 * template allows a build ({@link OverrideLimits}).
 */
public record BuildOverride(String image, Integer cpus, String memory, String diskSize, Integer keepFailedMinutes)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Nothing asked: the template as it is. */
    public static final BuildOverride NONE = new BuildOverride(null, null, null, null, null);

    /** Whether the VM's shape (image, size) is the template's own, so its warm snapshot fits. */
    boolean keepsShape() {
        return image == null && cpus == null && memory == null && diskSize == null;
    }
}
