package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Extension;
import hudson.RelativePath;
import hudson.Util;
import hudson.model.AbstractDescribableImpl;
import hudson.model.Descriptor;
import hudson.model.Label;
import hudson.model.labels.LabelAtom;
import hudson.util.ComboBoxModel;
import hudson.util.FormValidation;
import io.jenkins.plugins.qemu.engine.cloud.CloudValidation;
import io.jenkins.plugins.qemu.engine.cloud.TemplateSpec;
import io.jenkins.plugins.qemu.engine.cloud.WarmPool;
import io.jenkins.plugins.qemu.engine.config.Defaults;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.config.Validation;
import io.jenkins.plugins.qemu.engine.image.ImageCatalog;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.net.EgressPolicy;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import org.kohsuke.stapler.DataBoundConstructor;
import org.kohsuke.stapler.DataBoundSetter;
import org.kohsuke.stapler.QueryParameter;
import org.kohsuke.stapler.verb.POST;

/**
 * One kind of agent a {@link QemuCloud} can make: which image and size of VM, which labels it
 * serves, and how long it lives (one-shot by default). Values are kept as entered so the form and
 * configuration-as-code show them unchanged; {@link #toSpec()} hands them to the engine's
 * {@link TemplateSpec}, which is the one place they are judged.
 */
public class QemuTemplate extends AbstractDescribableImpl<QemuTemplate> {
    // Not final: readResolve repairs them in configurations saved by hand or by older versions.
    private String labels;
    private String image;
    private int cpus = Defaults.TEMPLATE_CPUS;
    private String memory = Defaults.TEMPLATE_MEMORY;
    private String diskSize = "";
    private String user = Defaults.USER;
    private String remoteFs = Defaults.TEMPLATE_REMOTE_FS;
    private String jvmOptions = "";
    private String extraCloudConfig = "";
    private int executors = Defaults.TEMPLATE_EXECUTORS;
    private int idleMinutes;
    private String bootTimeout = Defaults.BOOT_TIMEOUT_TEXT;
    /** Null in templates saved before this setting existed: those get the default (on) as well. */
    private Boolean warmStart;
    /** Blank (also in templates saved before this setting existed) means the engine's default policy. */
    private String egress = "";
    /** Blank means the default (see {@link TemplateSpec#DEFAULT_LAUNCH_TIMEOUT_TEXT}). */
    private String launchTimeout = "";
    /** 0: only the cloud's cap applies. */
    private int instanceCap;
    /** 0: no warm pool. */
    private int warmPool;

    @DataBoundConstructor
    public QemuTemplate(String labels, String image) {
        this.labels = Util.fixNull(labels).trim();
        this.image = Util.fixNull(image).trim();
    }

    public String getLabels() { return labels; }
    public String getImage() { return image; }
    public int getCpus() { return cpus; }
    public String getMemory() { return memory; }
    public String getDiskSize() { return diskSize; }
    public String getUser() { return user; }
    public String getRemoteFs() { return remoteFs; }
    public String getJvmOptions() { return jvmOptions; }
    public String getExtraCloudConfig() { return extraCloudConfig; }
    public int getExecutors() { return executors; }
    public int getIdleMinutes() { return idleMinutes; }
    public String getBootTimeout() { return bootTimeout; }
    public String getEgress() { return egress == null ? "" : egress; }
    public boolean isWarmStart() { return warmStart == null ? Defaults.TEMPLATE_WARM_START : warmStart; }
    public String getLaunchTimeout() { return launchTimeout; }
    public int getInstanceCap() { return instanceCap; }
    public int getWarmPool() { return warmPool; }

    @DataBoundSetter
    public void setLaunchTimeout(String launchTimeout) {
        this.launchTimeout = Util.fixNull(launchTimeout).trim();
    }

    @DataBoundSetter public void setInstanceCap(int instanceCap) { this.instanceCap = instanceCap; }
    @DataBoundSetter public void setWarmPool(int warmPool) { this.warmPool = warmPool; }

    /**
     * Defaults for what a configuration saved by an older version, or edited by hand, lacks:
     * XStream does not run field initialisers, and one template's null would otherwise abort the
     * provisioning pass of every cloud. Values that are present but wrong are left as they are:
     * {@link #toSpec()} names them, and the cloud shows that reason instead of booting.
     */
    protected Object readResolve() {
        labels = Util.fixNull(labels).trim();
        image = Util.fixNull(image).trim();
        if (image.isEmpty()) {
            image = Defaults.IMAGE;
        }
        if (cpus == 0) {
            cpus = Defaults.TEMPLATE_CPUS;
        }
        if (executors == 0) {
            executors = Defaults.TEMPLATE_EXECUTORS;
        }
        memory = memory == null || memory.isBlank() ? Defaults.TEMPLATE_MEMORY : memory;
        user = user == null || user.isBlank() ? Defaults.USER : user;
        remoteFs = remoteFs == null || remoteFs.isBlank() ? Defaults.TEMPLATE_REMOTE_FS : remoteFs;
        bootTimeout = bootTimeout == null || bootTimeout.isBlank() ? Defaults.BOOT_TIMEOUT_TEXT : bootTimeout;
        diskSize = Util.fixNull(diskSize);
        jvmOptions = Util.fixNull(jvmOptions);
        extraCloudConfig = Util.fixNull(extraCloudConfig);
        egress = Util.fixNull(egress);
        launchTimeout = Util.fixNull(launchTimeout);
        return this;
    }

    @DataBoundSetter public void setCpus(int cpus) { this.cpus = cpus; }

    @DataBoundSetter
    public void setMemory(String memory) {
        this.memory = Util.fixNull(memory).trim();
    }

    @DataBoundSetter
    public void setDiskSize(String diskSize) {
        this.diskSize = Util.fixNull(diskSize).trim();
    }

    @DataBoundSetter
    public void setUser(String user) {
        this.user = Util.fixNull(user).trim();
    }

    @DataBoundSetter
    public void setRemoteFs(String remoteFs) {
        this.remoteFs = Util.fixNull(remoteFs).trim();
    }

    @DataBoundSetter
    public void setJvmOptions(String jvmOptions) {
        this.jvmOptions = Util.fixNull(jvmOptions).trim();
    }

    @DataBoundSetter
    public void setExtraCloudConfig(String extraCloudConfig) {
        // Browsers submit text areas with CRLF line ends; YAML and the round trip want LF.
        this.extraCloudConfig = Util.fixNull(extraCloudConfig).replace("\r\n", "\n");
    }

    @DataBoundSetter public void setExecutors(int executors) { this.executors = executors; }
    @DataBoundSetter public void setIdleMinutes(int idleMinutes) { this.idleMinutes = idleMinutes; }
    @DataBoundSetter public void setWarmStart(boolean warmStart) { this.warmStart = warmStart; }

    @DataBoundSetter
    public void setEgress(String egress) {
        this.egress = Util.fixNull(egress).trim();
    }

    @DataBoundSetter
    public void setBootTimeout(String bootTimeout) {
        this.bootTimeout = Util.fixNull(bootTimeout).trim();
    }

    /** The validated template; throws {@link InvalidInputException} naming the first bad field. */
    public TemplateSpec toSpec() {
        return TemplateSpec.builder()
                .labels(labels)
                .image(image)
                .cpus(cpus)
                .memory(memory)
                .diskSize(diskSize)
                .user(user)
                .remoteFs(remoteFs)
                .jvmOptions(jvmOptions)
                .extraCloudConfig(extraCloudConfig)
                .executors(executors)
                .idleMinutes(idleMinutes)
                .bootTimeout(bootTimeout.isEmpty() ? Defaults.BOOT_TIMEOUT_TEXT : bootTimeout)
                .warmStart(isWarmStart())
                .egress(getEgress())
                .launchTimeout(launchTimeout)
                .instanceCap(instanceCap)
                .warmPool(warmPool)
                .build();
    }

    /**
     * Whether builds asking for this label may run here. A build without a label only gets a
     * template without labels, so labelled VMs are kept for the builds they were made for.
     */
    public boolean matches(@CheckForNull Label label) {
        Set<LabelAtom> atoms = Label.parse(labels);
        if (label == null) {
            return atoms.isEmpty();
        }
        return label.matches(atoms);
    }

    @Override
    public String toString() {
        return "QemuTemplate[" + labels + " image=" + image + "]";
    }

    /** Validation, image suggestions and the "Test" button of a template. */
    @Extension
    public static final class DescriptorImpl extends Descriptor<QemuTemplate> {

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
                    List<String> names = catalogNames(imagesDir);
                    if (!names.contains(value.trim())) {
                        return FormValidation.warning("The catalog has no image '" + value.trim() + "'"
                                + (names.isEmpty() ? "." : "; it has: " + String.join(", ", names)));
                    }
                    return FormValidation.ok();
                } catch (InvalidInputException e) {
                    return FormValidation.error(e.getMessage());
                } catch (IOException e) {
                    return FormValidation.warning("Cannot read the image catalog: " + e.getMessage());
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
            return TemplateTrial.run(config, spec, QemuCloud.savedCloudNamed(name));
        }

        private static List<String> catalogNames(String imagesDir) throws IOException {
            EngineConfig config = QemuCloud.engineConfig(imagesDir, null);
            return new ImageCatalog(config.imagesDir()).names();
        }
    }
}
