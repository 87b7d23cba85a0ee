package io.jenkins.plugins.qemu.engine.cloud;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.image.ImageCatalog;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import java.io.IOException;
import java.nio.file.Files;

/**
 * Whether a template can boot at all on this host, answered cheaply (file checks, no QEMU run) so
 * it can be asked at every provisioning pass: its settings are valid, QEMU and qemu-img are
 * installed, the image is in the catalog, and passt is there when the template's VMs may reach
 * the network. A template that fails this gets no VM and its reason is shown instead; a template
 * that passes may still fail to boot, which {@link ProvisioningBackoff} handles.
 */
public final class TemplateReadiness {
    private TemplateReadiness() {}

    /** Why VMs of this template cannot boot on a host with this configuration; null when they can. */
    public static String problem(EngineConfig config, TemplateSpec template) {
        if (!Files.isExecutable(config.qemuBinary())) {
            return "QEMU (" + config.qemuBinary() + ") is not installed or not executable on this host";
        }
        if (!Files.isExecutable(config.qemuImgBinary())) {
            return "qemu-img (" + config.qemuImgBinary() + ") is not installed or not executable on this host";
        }
        if (template.egress().internet() && !Files.isExecutable(config.passtBinary())) {
            return "passt (" + config.passtBinary() + "), which egress '" + template.egress() + "' needs, is not installed";
        }
        try {
            new ImageCatalog(config.imagesDir()).resolve(template.image());
        } catch (InvalidInputException e) {
            return e.getMessage();
        } catch (IOException e) {
            return "image '" + template.image() + "' cannot be read: " + e.getMessage();
        }
        return null;
    }

    /** {@link #problem} for settings that may not even be valid: building the spec is part of the check. */
    public static String problem(EngineConfig config, java.util.function.Supplier<TemplateSpec> template) {
        TemplateSpec spec;
        try {
            spec = template.get();
        } catch (InvalidInputException e) {
            return "the template's settings are invalid: " + e.getMessage();
        }
        return problem(config, spec);
    }

    /** The key under which a template is counted and backed off: what selects it (labels) and what it boots. */
    public static String key(String cloudId, TemplateSpec template) {
        return key(cloudId, template.labels(), template.image());
    }

    /** {@link #key(String, TemplateSpec)} from the raw settings, for templates whose settings may be invalid. */
    public static String key(String cloudId, String labels, String image) {
        return cloudId + "/" + (labels == null ? "" : labels.trim()) + "/" + (image == null ? "" : image.trim());
    }
}
