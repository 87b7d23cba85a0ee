package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Extension;
import hudson.RelativePath;
import hudson.Util;
import hudson.model.Descriptor;
import hudson.util.ComboBoxModel;
import hudson.util.FormValidation;
import io.jenkins.plugins.qemu.engine.cloud.CloudValidation;
import io.jenkins.plugins.qemu.engine.cloud.TemplateSpec;
import io.jenkins.plugins.qemu.engine.cloud.WarmPool;
import io.jenkins.plugins.qemu.engine.config.Defaults;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.config.Validation;
import io.jenkins.plugins.qemu.engine.image.ImageCatalog;
import io.jenkins.plugins.qemu.engine.net.EgressPolicy;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import java.io.IOException;
import java.util.List;
import org.kohsuke.stapler.QueryParameter;
import org.kohsuke.stapler.verb.POST;

/**
 * The descriptor of {@link QemuTemplate}: the form's defaults, a check per field (each judged by
 * the engine's rule for it), the image suggestions from the cloud's catalog and the "Test" button.
 * A class of its own, not nested, to keep the template a plain value.
 */
@Extension
public final class QemuTemplateDescriptor extends Descriptor<QemuTemplate> {

    public QemuTemplateDescriptor() {
        super(QemuTemplate.class);
    }

    @NonNull
    @Override
    public String getDisplayName() {
        return "QEMU VM template";
    }

    public String getDefaultImage() { return Defaults.IMAGE; }
    public int getDefaultCpus() { return Defaults.TEMPLATE_CPUS; }
    public String getDefaultMemory() { return Defaults.TEMPLATE_MEMORY; }
    public String getDefaultUser() { return Defaults.USER; }
    public String getDefaultRemoteFs() { return Defaults.TEMPLATE_REMOTE_FS; }
    public int getDefaultExecutors() { return Defaults.TEMPLATE_EXECUTORS; }
    public String getDefaultBootTimeout() { return Defaults.BOOT_TIMEOUT_TEXT; }

    @POST
    public FormValidation doCheckLabels(@QueryParameter String value) {
        return FormChecks.ifAllowed(() -> {
            FormValidation v = FormChecks.check(() -> CloudValidation.labels("labels", value));
            if (v.kind == FormValidation.Kind.OK && Util.fixNull(value).isBlank()) {
                return FormValidation.warning("Without labels this template serves every build that asks for no label.");
            }
            return v;
        });
    }

    /** Checks the name, and whether the cloud's catalog (the images directory above) has it. */
    @POST
    public FormValidation doCheckImage(@QueryParameter String value,
            @RelativePath("..") @QueryParameter String imagesDir) {
        return FormChecks.ifAllowed(() -> {
            try {
                Validation.imageName("image", Util.fixNull(value).trim());
                return catalogHas(List.of(value.trim()), imagesDir);
            } catch (InvalidInputException e) {
                return FormValidation.error(e.getMessage());
            }
        });
    }

    @POST
    public ComboBoxModel doFillImageItems(@RelativePath("..") @QueryParameter String imagesDir) {
        return FormChecks.ifAllowed(new ComboBoxModel(), () -> {
            ComboBoxModel model = new ComboBoxModel();
            try {
                model.addAll(catalogNames(imagesDir));
            } catch (IOException | InvalidInputException e) {
                // An unreadable or invalid directory is reported by the directory's own check.
            }
            return model;
        });
    }

    @POST
    public FormValidation doCheckCpus(@QueryParameter String value) {
        return FormChecks.field(() -> Validation.cpus("cpus", value));
    }

    @POST
    public FormValidation doCheckMemory(@QueryParameter String value) {
        return FormChecks.field(() -> Validation.memoryMiB("memory", value));
    }

    @POST
    public FormValidation doCheckDiskSize(@QueryParameter String value) {
        return FormChecks.field(() -> CloudValidation.diskSizeMiB("diskSize", value));
    }

    @POST
    public FormValidation doCheckUser(@QueryParameter String value) {
        return FormChecks.field(() -> Validation.userName("user", Util.fixNull(value).trim()));
    }

    @POST
    public FormValidation doCheckRemoteFs(@QueryParameter String value) {
        return FormChecks.field(() -> CloudValidation.remoteFs("remoteFs", value));
    }

    @POST
    public FormValidation doCheckJvmOptions(@QueryParameter String value) {
        return FormChecks.field(() -> CloudValidation.jvmOptions("jvmOptions", value));
    }

    /** Parsed as the engine will parse it when it writes the seed, reserved keys included. */
    @POST
    public FormValidation doCheckExtraCloudConfig(@QueryParameter String value) {
        return FormChecks.field(() -> TemplateSpec.builder().extraCloudConfig(value).build());
    }

    @POST
    public FormValidation doCheckExecutors(@QueryParameter String value) {
        return FormChecks.field(() -> CloudValidation.executors("executors", FormChecks.parseInt("executors", value)));
    }

    @POST
    public FormValidation doCheckIdleMinutes(@QueryParameter String value) {
        return FormChecks.ifAllowed(() -> {
            FormValidation v = FormChecks.check(() -> CloudValidation.idleMinutes("idleMinutes", FormChecks.parseInt("idleMinutes", value)));
            if (v.kind == FormValidation.Kind.OK && FormChecks.parseInt("idleMinutes", value) > 0) {
                return FormValidation.ok("VMs are reused by later builds: builds may see each other's leftovers.");
            }
            return v;
        });
    }

    @POST
    public FormValidation doCheckBootTimeout(@QueryParameter String value) {
        return FormChecks.field(() -> Validation.duration("bootTimeout", value));
    }

    @POST
    public FormValidation doCheckLaunchTimeout(@QueryParameter String value) {
        return FormChecks.field(() -> TemplateSpec.builder().launchTimeout(value).build());
    }

    @POST
    public FormValidation doCheckInstanceCap(@QueryParameter String value) {
        return FormChecks.field(() -> CloudValidation.templateInstanceCap("instanceCap", FormChecks.parseInt("instanceCap", value)));
    }

    @POST
    public FormValidation doCheckWarmPool(@QueryParameter String value) {
        return FormChecks.field(() -> WarmPool.size("warmPool", FormChecks.parseInt("warmPool", value)));
    }

    @POST
    public FormValidation doCheckKeepFailedMinutes(@QueryParameter String value, @QueryParameter String idleMinutes) {
        return FormChecks.field("keepFailedMinutes", () -> TemplateSpec.builder().keepFailedMinutes(FormChecks.parseInt("keepFailedMinutes", value))
                .idleMinutes(FormChecks.parseInt("idleMinutes", idleMinutes)).build());
    }

    @POST
    public FormValidation doCheckMaxCpus(@QueryParameter String value, @QueryParameter String cpus) {
        return FormChecks.field("maxCpus", () -> TemplateSpec.builder().cpus(FormChecks.parseInt("cpus", cpus))
                .maxCpus(FormChecks.parseInt("maxCpus", value)).build());
    }

    @POST
    public FormValidation doCheckMaxMemory(@QueryParameter String value, @QueryParameter String memory) {
        return FormChecks.field("maxMemory", () -> TemplateSpec.builder().memory(memory).maxMemory(value).build());
    }

    @POST
    public FormValidation doCheckMaxDiskSize(@QueryParameter String value, @QueryParameter String diskSize) {
        return FormChecks.field("maxDiskSize", () -> TemplateSpec.builder().diskSize(diskSize).maxDiskSize(value).build());
    }

    /** Besides the names' syntax, warns about names the cloud's catalog does not hold. */
    @POST
    public FormValidation doCheckOverrideImages(@QueryParameter String value, @RelativePath("..") @QueryParameter String imagesDir) {
        return FormChecks.ifAllowed(() -> {
            TemplateSpec spec;
            try {
                spec = TemplateSpec.builder().overrideImages(value).build();
            } catch (InvalidInputException e) {
                return FormValidation.error(e.getMessage());
            }
            try {
                return catalogHas(spec.overrideLimits().images(), imagesDir);
            } catch (InvalidInputException e) {
                return FormValidation.warning("Cannot read the image catalog: " + e.getMessage());
            }
        });
    }

    @POST
    public FormValidation doCheckEgress(@QueryParameter String value) {
        return FormChecks.field(() -> EgressPolicy.parse("egress", value));
    }

    /**
     * Boots the template once, as entered, with the cloud's directories as entered: disk size,
     * warm start (a restore when the snapshot is current), egress and extra cloud-config
     * included; then checks that the agent's Java starts with the template's JVM options and
     * that the remote root directory is writable, and reports the time to online or why it
     * failed. The VM is booked against the saved cloud's cap and budget like any agent, so
     * pressing Test cannot overshoot them; the request waits for at most the boot timeout.
     */
    @POST
    public FormValidation doTestTemplate(@QueryParameter String name, @QueryParameter String imagesDir,
            @QueryParameter String stateDir, @QueryParameter String labels, @QueryParameter String image,
            @QueryParameter String cpus, @QueryParameter String memory, @QueryParameter String diskSize,
            @QueryParameter String user, @QueryParameter String remoteFs, @QueryParameter String jvmOptions,
            @QueryParameter String extraCloudConfig, @QueryParameter String bootTimeout, @QueryParameter String egress,
            @QueryParameter boolean warmStart) throws InterruptedException {
        jenkins.model.Jenkins.get().checkPermission(jenkins.model.Jenkins.ADMINISTER);
        TemplateSpec spec;
        EngineConfig config;
        try {
            spec = TemplateTrial.specFromForm(labels, image, cpus, memory, diskSize, user, remoteFs, jvmOptions,
                    extraCloudConfig, bootTimeout, egress, warmStart);
            config = QemuCloud.engineConfig(imagesDir, stateDir);
        } catch (InvalidInputException e) {
            return FormValidation.error(e.getMessage());
        }
        QemuCloud saved = QemuCloud.savedCloudNamed(name);
        if (saved != null && saved.usesHosts()) {
            return HostTrial.run(saved, spec); // on the saved cloud's hosts, with their own directories
        }
        return TemplateTrial.run(config, spec, saved);
    }

    /**
     * OK when the cloud's catalog (the images directory above) holds every one of {@code wanted};
     * else a warning naming those it lacks and what it has, or why it cannot be read. An invalid
     * directory is left to the caller ({@link InvalidInputException}), as the directory's own check reports it.
     */
    private static FormValidation catalogHas(java.util.Collection<String> wanted, String imagesDir) {
        List<String> names;
        try {
            names = catalogNames(imagesDir);
        } catch (IOException e) {
            return FormValidation.warning("Cannot read the image catalog: " + e.getMessage());
        }
        List<String> missing = wanted.stream().filter(n -> !names.contains(n)).sorted().map(n -> "'" + n + "'").toList();
        return missing.isEmpty() ? FormValidation.ok()
                : FormValidation.warning("The catalog has no image " + String.join(", ", missing)
                        + (names.isEmpty() ? "." : "; it has: " + String.join(", ", names)));
    }

    private static List<String> catalogNames(String imagesDir) throws IOException {
        EngineConfig config = QemuCloud.engineConfig(imagesDir, null);
        return new ImageCatalog(config.imagesDir()).names();
    }
}
