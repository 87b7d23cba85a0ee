package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import hudson.Util;
import hudson.model.AbstractDescribableImpl;
import hudson.model.Label;
import hudson.model.labels.LabelAtom;
import io.jenkins.plugins.qemu.engine.cloud.BuildOverride;
import io.jenkins.plugins.qemu.engine.cloud.OverrideLimits;
import io.jenkins.plugins.qemu.engine.cloud.TemplateSpec;
import io.jenkins.plugins.qemu.engine.config.Defaults;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import java.util.Set;
import org.kohsuke.stapler.DataBoundConstructor;
import org.kohsuke.stapler.DataBoundSetter;

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
    /** 0 (also in templates saved before this setting existed): a failed build's VM goes like any other. */
    private int keepFailedMinutes;
    /** What one build may ask for beyond this template (see {@link OverrideLimits}); 0 or blank: no more. */
    private int maxCpus;
    private String maxMemory = "";
    private String maxDiskSize = "";
    private String overrideImages = "";
    /**
     * A one-off template's metrics name: the family of the template it was derived from (see
     * {@link #derive}); null for a configured template, whose name comes from its own labels.
     * Never saved: one-off templates live in memory and are derived again after a restart.
     */
    @CheckForNull
    private transient String family;

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
    public int getKeepFailedMinutes() { return keepFailedMinutes; }
    public int getMaxCpus() { return maxCpus; }
    public String getMaxMemory() { return maxMemory; }
    public String getMaxDiskSize() { return maxDiskSize; }
    public String getOverrideImages() { return overrideImages; }

    @DataBoundSetter
    public void setLaunchTimeout(String launchTimeout) {
        this.launchTimeout = Util.fixNull(launchTimeout).trim();
    }

    @DataBoundSetter public void setInstanceCap(int instanceCap) { this.instanceCap = instanceCap; }
    @DataBoundSetter public void setWarmPool(int warmPool) { this.warmPool = warmPool; }
    @DataBoundSetter public void setKeepFailedMinutes(int keepFailedMinutes) { this.keepFailedMinutes = keepFailedMinutes; }
    @DataBoundSetter public void setMaxCpus(int maxCpus) { this.maxCpus = maxCpus; }
    @DataBoundSetter public void setMaxMemory(String maxMemory) { this.maxMemory = Util.fixNull(maxMemory).trim(); }
    @DataBoundSetter public void setMaxDiskSize(String maxDiskSize) { this.maxDiskSize = Util.fixNull(maxDiskSize).trim(); }
    @DataBoundSetter public void setOverrideImages(String overrideImages) { this.overrideImages = Util.fixNull(overrideImages).trim(); }

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
        maxMemory = Util.fixNull(maxMemory);
        maxDiskSize = Util.fixNull(maxDiskSize);
        overrideImages = Util.fixNull(overrideImages);
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
                .keepFailedMinutes(keepFailedMinutes)
                .maxCpus(maxCpus)
                .maxMemory(maxMemory)
                .maxDiskSize(maxDiskSize)
                .overrideImages(overrideImages)
                .family(family)
                .build();
    }

    /**
     * The one-off template of a build that asks for {@code o}, labelled {@code label} alone; checked
     * first by the engine ({@link TemplateSpec#derive}), which names the field a build asked too much of.
     */
    QemuTemplate derive(BuildOverride o, String label) {
        TemplateSpec d = toSpec().derive(o, label);
        QemuTemplate t = new QemuTemplate(label, d.image());
        t.cpus = d.cpus();
        t.memory = o.memory() != null ? o.memory() : memory;
        t.diskSize = o.diskSize() != null ? o.diskSize() : diskSize;
        t.user = user;
        t.remoteFs = remoteFs;
        t.jvmOptions = jvmOptions;
        t.extraCloudConfig = extraCloudConfig;
        t.executors = executors;
        t.idleMinutes = idleMinutes;
        t.bootTimeout = bootTimeout;
        t.warmStart = d.warmStart();
        t.egress = egress;
        t.launchTimeout = launchTimeout;
        t.instanceCap = instanceCap;
        t.keepFailedMinutes = d.keepFailedMinutes();
        // Its VMs count under the template it came from (metrics, ps), not under its one-off label.
        t.family = d.family();
        return t;
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
}
