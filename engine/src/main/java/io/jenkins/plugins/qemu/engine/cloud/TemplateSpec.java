package io.jenkins.plugins.qemu.engine.cloud;

import io.jenkins.plugins.qemu.engine.config.Defaults;
import io.jenkins.plugins.qemu.engine.config.Validation;
import io.jenkins.plugins.qemu.engine.net.EgressPolicy;
import io.jenkins.plugins.qemu.engine.seed.CloudInitConfig;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.io.Serializable;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * One agent template of a Jenkins cloud, validated as a whole: what the VM looks like (image,
 * CPUs, memory, disk, user, extra cloud-config) and how Jenkins uses it (labels, work directory,
 * JVM options, executors, retention). Building it also builds a throw-away {@link VmSpec}, so
 * anything the engine would reject at boot time is rejected when the template is saved. Plain
 * values only, so it can travel to an engine on another machine.
 */
public final class TemplateSpec implements Serializable {
    private static final long serialVersionUID = 1L;
    /** The agent launch's default bound (SSH login, agent jar, JVM start), as a form shows it. */
    public static final String DEFAULT_LAUNCH_TIMEOUT_TEXT = "5m";

    private final String labels;
    private final String image;
    private final int cpus;
    private final long memoryMiB;
    private final long diskSizeMiB;
    private final String user;
    private final String remoteFs;
    private final String jvmOptions;
    private final String extraCloudConfig;
    private final int executors;
    private final int idleMinutes;
    private final Duration bootTimeout;
    private final boolean warmStart;
    private final EgressPolicy egress;
    private final Duration launchTimeout;
    private final int instanceCap;
    private final int warmPool;
    private final int keepFailedMinutes;
    private final OverrideLimits overrideLimits;
    private final String family;
    /** The raw values this was built from, so {@link #derive} judges a build's template by the same rules. */
    private final Builder source;

    private TemplateSpec(Builder b) {
        this.source = b.copy();
        this.labels = CloudValidation.labels("labels", b.labels);
        this.image = Validation.imageName("image", b.image == null ? null : b.image.trim());
        this.cpus = Validation.cpus("cpus", b.cpus);
        this.memoryMiB = Validation.memoryMiB("memory", b.memory);
        this.diskSizeMiB = CloudValidation.diskSizeMiB("diskSize", b.diskSize);
        this.user = Validation.userName("user", b.user == null ? null : b.user.trim());
        this.remoteFs = CloudValidation.remoteFs("remoteFs", b.remoteFs);
        this.jvmOptions = CloudValidation.jvmOptions("jvmOptions", b.jvmOptions);
        CloudInitConfig.validateExtra("extraCloudConfig", b.extraCloudConfig);
        this.extraCloudConfig = b.extraCloudConfig == null || b.extraCloudConfig.isBlank() ? null : b.extraCloudConfig;
        this.executors = CloudValidation.executors("executors", b.executors);
        this.idleMinutes = CloudValidation.idleMinutes("idleMinutes", b.idleMinutes);
        this.bootTimeout = Validation.duration("bootTimeout", b.bootTimeout == null ? Defaults.BOOT_TIMEOUT_TEXT : b.bootTimeout);
        this.warmStart = b.warmStart;
        this.family = b.family != null ? b.family : labels.isEmpty() ? image : labels.replace(' ', '+');
        this.egress = EgressPolicy.parse("egress", b.egress);
        this.launchTimeout = Validation.duration("launchTimeout",
                b.launchTimeout == null || b.launchTimeout.isBlank() ? DEFAULT_LAUNCH_TIMEOUT_TEXT : b.launchTimeout.trim());
        this.instanceCap = CloudValidation.templateInstanceCap("instanceCap", b.instanceCap);
        this.warmPool = WarmPool.size("warmPool", b.warmPool);
        this.keepFailedMinutes = CloudValidation.keepFailedMinutes("keepFailedMinutes", b.keepFailedMinutes);
        if (keepFailedMinutes > 0 && idleMinutes > 0) {
            throw new io.jenkins.plugins.qemu.engine.config.InvalidInputException("keepFailedMinutes", keepFailedMinutes,
                    "applies to one-shot agents only (idle minutes 0); a reused VM is not a failed build's alone");
        }
        if (warmPool > 0 && instanceCap > 0 && warmPool > instanceCap) {
            throw new io.jenkins.plugins.qemu.engine.config.InvalidInputException("warmPool", warmPool,
                    "is more than the template's own instance cap (" + instanceCap + "); the pool counts against it");
        }
        this.overrideLimits = OverrideLimits.parse(b.maxCpus, b.maxMemory, b.maxDiskSize, b.overrideImages);
        overrideLimits.checkAgainst(this);
        // The engine's own checks (cloud-config syntax and keys it reserves, user, sizes) run here
        // too, so a template that saves is a template that can boot.
        toVmSpec(VmSpec.newVmId());
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * How long an agent's VM outlives a controller that is gone (see {@link VmSpec#lease()}): long
     * enough for a restart, safe or not, to come back and re-attach it; short enough that a
     * controller that never returns does not leave VMs running for long. A cloud may set its own
     * ({@link CloudValidation#restartLeaseMinutes}).
     */
    public static final java.time.Duration AGENT_LEASE = java.time.Duration.ofMinutes(10);

    /** The request for one agent VM of this template: {@link #toVmSpec} with the {@link #AGENT_LEASE}. */
    public VmSpec toAgentVmSpec(String vmId) {
        return toAgentVmSpec(vmId, AGENT_LEASE);
    }

    /** The request for one agent VM of this template whose VM outlives a gone controller by {@code lease}. */
    public VmSpec toAgentVmSpec(String vmId, java.time.Duration lease) {
        return toVmSpec(vmId).toBuilder().lease(lease).build();
    }

    /** The request for one VM of this template; {@code vmId} also becomes the guest's host name. */
    public VmSpec toVmSpec(String vmId) {
        return VmSpec.builder()
                .vmId(vmId)
                .image(image)
                .cpus(cpus)
                .memoryMiB(memoryMiB)
                .diskSizeMiB(diskSizeMiB)
                .user(user)
                .sudo(true)
                .extraUserData(extraCloudConfig)
                .bootTimeout(bootTimeout)
                .warmStart(warmStart)
                .egress(egress)
                .template(family)
                .build();
    }

    public String labels() { return labels; }
    public List<String> labelAtoms() { return labels.isEmpty() ? List.of() : Arrays.asList(labels.split(" ")); }
    public String image() { return image; }
    public int cpus() { return cpus; }
    public long memoryMiB() { return memoryMiB; }
    /** 0 when the base image's own disk size is used. */
    public long diskSizeMiB() { return diskSizeMiB; }
    public String user() { return user; }
    public String remoteFs() { return remoteFs; }
    public String jvmOptions() { return jvmOptions; }
    public String extraCloudConfig() { return extraCloudConfig; }
    public int executors() { return executors; }
    public int idleMinutes() { return idleMinutes; }
    public Duration bootTimeout() { return bootTimeout; }
    /** Restore VMs from the template's warm snapshot (the engine boots cold, and says why, where it cannot). */
    public boolean warmStart() { return warmStart; }
    /** What the template's VMs may reach; blank in a form or JCasC means {@link EgressPolicy#DEFAULT}. */
    public EgressPolicy egress() { return egress; }

    /** How long the agent's launch may take once the VM is online before it counts as stuck. */
    public Duration launchTimeout() { return launchTimeout; }
    /** At most this many VMs of this template at once; 0 when only the cloud's cap applies. */
    public int instanceCap() { return instanceCap; }

    /** Ready VMs kept idle ahead of demand (see {@link WarmPool}); 0, the default, keeps none. */
    public int warmPool() { return warmPool; }

    /** How long a failed build's VM is kept for debugging; 0, the default, keeps none. */
    public int keepFailedMinutes() { return keepFailedMinutes; }

    /**
     * The name its VMs are counted under in metrics: its labels joined by '+', or its image when it
     * has none; a one-off template keeps the name of the template it was derived from, so builds
     * with overrides do not make a metric name each.
     */
    public String family() { return family; }

    /** How far one build may go beyond this template ({@link #derive}). */
    public OverrideLimits overrideLimits() { return overrideLimits; }

    /**
     * The one-off template of a build that asks for {@code o}, labelled {@code label} alone: this
     * template with the build's image, size and keep time, each checked against what this template
     * allows a build ({@link OverrideLimits}), then judged as a whole like any template. It keeps no
     * warm pool, allows no further overrides, and restores from a warm snapshot only if its shape
     * is this template's (a snapshot per one-off size would cost a VM build each).
     */
    public TemplateSpec derive(BuildOverride o, String label) {
        Builder b = source.copy().labels(label).family(family).warmPool(0).maxCpus(0).maxMemory(null).maxDiskSize(null).overrideImages(null);
        if (o.image() != null && !o.image().trim().equals(image)) {
            String asked = o.image().trim();
            if (!overrideLimits.images().contains(asked)) {
                throw new io.jenkins.plugins.qemu.engine.config.InvalidInputException("image", asked, "is not an image this template lets a build ask for"
                        + " (its own '" + image + "'" + (overrideLimits.images().isEmpty() ? "" : " or " + String.join(", ", overrideLimits.images()))
                        + "; an administrator adds images with the template's overrideImages)");
            }
            b.image(asked);
        }
        if (o.cpus() != null) {
            int asked = Validation.cpus("cpus", o.cpus());
            atMost("cpus", asked, overrideLimits.cpusUpTo(cpus), asked + "", overrideLimits.cpusUpTo(cpus) + "", "maxCpus");
            b.cpus(asked);
        }
        if (o.memory() != null) {
            long asked = Validation.memoryMiB("memory", o.memory());
            long max = overrideLimits.memoryUpTo(memoryMiB);
            atMost("memory", asked, max, o.memory(), Validation.sizeText(max), "maxMemory");
            b.memory(o.memory());
        }
        if (o.diskSize() != null) {
            long asked = Validation.diskSizeMiB("diskSize", o.diskSize());
            long max = overrideLimits.diskUpTo(diskSizeMiB);
            atMost("diskSize", asked, max, o.diskSize(), max == 0 ? "the image's own size" : Validation.sizeText(max), "maxDiskSize");
            b.diskSize(o.diskSize());
        }
        if (o.keepFailedMinutes() != null) {
            int max = overrideLimits.keepFailedUpTo(keepFailedMinutes);
            atMost("keepFailedMinutes", o.keepFailedMinutes(), max, o.keepFailedMinutes() + "", max + " minutes", null);
            b.keepFailedMinutes(o.keepFailedMinutes());
        }
        return b.warmStart(warmStart && o.keepsShape()).build();
    }

    private static void atMost(String field, long asked, long max, String askedText, String maxText, String limitField) {
        if (asked > max) {
            throw new io.jenkins.plugins.qemu.engine.config.InvalidInputException(field, askedText, "is more than this template lets a build ask for (at most "
                    + maxText + (limitField == null ? "" : "; an administrator raises it with the template's " + limitField) + ")");
        }
    }

    /**
     * The template's version: a digest of every setting that shapes its VMs and agents (not its
     * caps or pool size), so a pool member booted for an older version can be told apart.
     */
    public String digest() {
        String all = String.join("\u0000", labels, image, String.valueOf(cpus), String.valueOf(memoryMiB), String.valueOf(diskSizeMiB),
                user, remoteFs, String.valueOf(jvmOptions), String.valueOf(extraCloudConfig), String.valueOf(executors),
                String.valueOf(idleMinutes), bootTimeout.toString(), String.valueOf(warmStart), String.valueOf(egress), launchTimeout.toString())
                // Only when set, so the digests of templates saved before the setting stay as they were.
                + (keepFailedMinutes > 0 ? "\u0000keepFailed=" + keepFailedMinutes : "");
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(all.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(d, 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public RetentionPolicy retention() {
        return new RetentionPolicy(idleMinutes, launchTimeout, Duration.ofMinutes(keepFailedMinutes));
    }

    @Override
    public String toString() {
        return "TemplateSpec[labels='" + labels + "' image=" + image + " cpus=" + cpus + " memory=" + memoryMiB
                + "M disk=" + (diskSizeMiB == 0 ? "image" : Validation.sizeText(diskSizeMiB)) + " executors=" + executors + " " + retention() + (warmStart ? " warm-start" : "") + (warmPool > 0 ? " pool=" + warmPool : "") + " egress=" + egress + "]";
    }

    /** Collects raw values as a form or YAML gives them; {@link #build()} judges all of them. */
    public static final class Builder implements Serializable {
        private static final long serialVersionUID = 1L;
        private String labels = "";
        private String image = Defaults.IMAGE;
        private int cpus = Defaults.TEMPLATE_CPUS;
        private String memory = Defaults.TEMPLATE_MEMORY;
        private String diskSize;
        private String user = Defaults.USER;
        private String remoteFs = Defaults.TEMPLATE_REMOTE_FS;
        private String jvmOptions;
        private String extraCloudConfig;
        private int executors = Defaults.TEMPLATE_EXECUTORS;
        private int idleMinutes;
        private String bootTimeout = Defaults.BOOT_TIMEOUT_TEXT;
        private boolean warmStart = Defaults.TEMPLATE_WARM_START;
        private String egress;
        private String launchTimeout;
        private int instanceCap;
        private int warmPool;
        private int keepFailedMinutes;
        private int maxCpus;
        private String maxMemory;
        private String maxDiskSize;
        private String overrideImages;
        private String family;

        Builder copy() {
            Builder c = new Builder();
            c.labels = labels; c.image = image; c.cpus = cpus; c.memory = memory; c.diskSize = diskSize; c.user = user;
            c.remoteFs = remoteFs; c.jvmOptions = jvmOptions; c.extraCloudConfig = extraCloudConfig; c.executors = executors;
            c.idleMinutes = idleMinutes; c.bootTimeout = bootTimeout; c.warmStart = warmStart; c.egress = egress;
            c.launchTimeout = launchTimeout; c.instanceCap = instanceCap; c.warmPool = warmPool; c.keepFailedMinutes = keepFailedMinutes;
            c.maxCpus = maxCpus; c.maxMemory = maxMemory; c.maxDiskSize = maxDiskSize; c.overrideImages = overrideImages;
            c.family = family;
            return c;
        }

        public Builder labels(String v) { labels = v; return this; }
        /** The name its VMs are counted under; null (the default): its labels joined by '+', or its image. */
        public Builder family(String v) { family = v; return this; }
        public Builder image(String v) { image = v; return this; }
        public Builder cpus(int v) { cpus = v; return this; }
        public Builder memory(String v) { memory = v; return this; }
        public Builder diskSize(String v) { diskSize = v; return this; }
        public Builder user(String v) { user = v; return this; }
        public Builder remoteFs(String v) { remoteFs = v; return this; }
        public Builder jvmOptions(String v) { jvmOptions = v; return this; }
        public Builder extraCloudConfig(String v) { extraCloudConfig = v; return this; }
        public Builder executors(int v) { executors = v; return this; }
        public Builder idleMinutes(int v) { idleMinutes = v; return this; }
        public Builder bootTimeout(String v) { bootTimeout = v; return this; }
        public Builder warmStart(boolean v) { warmStart = v; return this; }
        /** The text form: {@code default}, {@code none}, optionally {@code +allow:PORT[,PORT...]}. */
        public Builder egress(String v) { egress = v; return this; }
        /** A duration such as {@code 5m}; blank means {@link #DEFAULT_LAUNCH_TIMEOUT_TEXT}. */
        public Builder launchTimeout(String v) { launchTimeout = v; return this; }
        /** 0 (the default) means no cap of its own. */
        public Builder instanceCap(int v) { instanceCap = v; return this; }
        /** 0 (the default) keeps no pool. */
        public Builder warmPool(int v) { warmPool = v; return this; }
        /** 0 (the default) keeps no failed build's VM. */
        public Builder keepFailedMinutes(int v) { keepFailedMinutes = v; return this; }
        /** What one build may ask for beyond the template (see {@link OverrideLimits}); 0 or blank: no more than the template. */
        public Builder maxCpus(int v) { maxCpus = v; return this; }
        public Builder maxMemory(String v) { maxMemory = v; return this; }
        public Builder maxDiskSize(String v) { maxDiskSize = v; return this; }
        /** Image names, separated by spaces or commas, a build may ask for instead of the template's. */
        public Builder overrideImages(String v) { overrideImages = v; return this; }

        public TemplateSpec build() {
            return new TemplateSpec(this);
        }
    }
}
