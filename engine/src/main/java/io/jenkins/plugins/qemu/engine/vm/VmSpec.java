package io.jenkins.plugins.qemu.engine.vm;

import io.jenkins.plugins.qemu.engine.config.Defaults;
import io.jenkins.plugins.qemu.engine.config.Validation;
import io.jenkins.plugins.qemu.engine.net.EgressPolicy;
import io.jenkins.plugins.qemu.engine.seed.CloudInitConfig;
import java.io.Serializable;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Everything needed to boot one VM, fixed and validated once when built. It holds plain values
 * only (no paths of this host, no keys), so a request can be made on a Jenkins controller and
 * carried out by an engine on another machine.
 */
public final class VmSpec implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String vmId;
    private final String image;
    private final int cpus;
    private final long memoryMiB;
    /** 0: the image's own virtual size, also what a spec serialised before this field existed reads as. */
    private final long diskSizeMiB;
    private final String machine;
    private final Accel accel;
    private final String hostname;
    private final String user;
    private final boolean sudo;
    private final AgentJar agentJar;
    private final String extraUserData;
    private final Duration bootTimeout;
    private final Duration shutdownGrace;
    private final boolean keepConsole;
    private final boolean warmStart;
    /** Null only in a spec serialised before this field existed: read as the default. */
    private final EgressPolicy egress;
    /** Null: the VM dies with its engine. */
    private final Duration lease;
    /** The template the VM was asked for by, for people listing VMs; null for none (the CLI). */
    private final String template;

    private VmSpec(Builder b) {
        this.vmId = b.vmId == null ? newVmId() : Validation.hostname("vmId", b.vmId);
        this.image = Validation.imageName("image", b.image);
        this.cpus = Validation.cpus("cpus", b.cpus);
        this.memoryMiB = Validation.memoryMiB("memory", b.memoryMiB);
        this.diskSizeMiB = b.diskSizeMiB == 0 ? 0 : Validation.diskSizeMiB("diskSize", b.diskSizeMiB);
        this.machine = Validation.machine("machine", b.machine);
        this.accel = Validation.required("accelerator", b.accel);
        this.hostname = b.hostname == null ? vmId : Validation.hostname("hostname", b.hostname);
        this.user = Validation.userName("user", b.user);
        this.sudo = b.sudo;
        this.agentJar = b.agentJar;
        // Parsed here only to reject it early; the seed parses it again when it is written.
        CloudInitConfig.validateExtra("extraUserData", b.extraUserData);
        this.extraUserData = b.extraUserData;
        this.bootTimeout = Validation.positive("bootTimeout", b.bootTimeout);
        if (b.shutdownGrace == null || b.shutdownGrace.isNegative()) {
            throw new io.jenkins.plugins.qemu.engine.config.InvalidInputException("shutdownGrace", b.shutdownGrace, "must be zero or a positive duration");
        }
        this.shutdownGrace = b.shutdownGrace;
        this.keepConsole = b.keepConsole;
        this.warmStart = b.warmStart;
        this.egress = Validation.required("egress", b.egress);
        this.lease = b.lease == null ? null : Validation.positive("lease", b.lease);
        if (b.template != null && (b.template.isBlank() || b.template.length() > 200 || b.template.chars().anyMatch(Character::isISOControl))) {
            throw new io.jenkins.plugins.qemu.engine.config.InvalidInputException("template", b.template,
                    "must be 1 to 200 characters without control characters");
        }
        this.template = b.template;
        if (egress.internet() && !sudo) {
            throw new io.jenkins.plugins.qemu.engine.config.InvalidInputException("egress", egress,
                    "needs sudo for the agent user: the engine configures the guest's egress NIC with it; enable sudo or use egress 'none'");
        }
    }

    /** A fresh id: short enough for a host name and a socket path, random enough never to collide. */
    public static String newVmId() {
        byte[] bytes = new byte[5];
        RANDOM.nextBytes(bytes);
        return "qa-" + HexFormat.of().formatHex(bytes);
    }

    public static Builder builder() {
        return new Builder();
    }

    public String vmId() { return vmId; }
    public String image() { return image; }
    public int cpus() { return cpus; }
    public long memoryMiB() { return memoryMiB; }
    /** The disk's virtual size in MiB, or 0 for the image's own size; never below the image's size (checked at boot). */
    public long diskSizeMiB() { return diskSizeMiB; }
    public String machine() { return machine; }
    public Accel accel() { return accel; }
    public String hostname() { return hostname; }
    public String user() { return user; }
    public boolean sudo() { return sudo; }
    /** The agent's jar, put into the template's warm snapshot with a class-data-sharing archive; null for none. */
    public AgentJar agentJar() { return agentJar; }
    public String extraUserData() { return extraUserData; }
    public Duration bootTimeout() { return bootTimeout; }
    public Duration shutdownGrace() { return shutdownGrace; }
    public boolean keepConsole() { return keepConsole; }
    /** Restore from the template's warm snapshot where the image supports it (else a cold boot, logged). */
    public boolean warmStart() { return warmStart; }
    /** What the guest may reach on the network besides its SSH forward. */
    public EgressPolicy egress() { return egress == null ? EgressPolicy.DEFAULT : egress; }
    /**
     * How long the VM outlives an engine that is gone (a controller restart) before it may be
     * reaped; null when it dies with its engine. The live engine keeps renewing it, and an engine
     * of the same owner id may adopt the VM while it runs ({@code QemuEngine.adopt}).
     */
    public Duration lease() { return lease; }
    public boolean leased() { return lease != null; }
    /** The template the VM was asked for by (shown by {@code ps}); null for none. */
    public String template() { return template; }

    public Builder toBuilder() {
        return new Builder().vmId(vmId).image(image).cpus(cpus).memoryMiB(memoryMiB).diskSizeMiB(diskSizeMiB).machine(machine)
                .accel(accel).hostname(hostname).user(user).sudo(sudo).extraUserData(extraUserData).bootTimeout(bootTimeout)
                .shutdownGrace(shutdownGrace).keepConsole(keepConsole).warmStart(warmStart).egress(egress()).agentJar(agentJar).lease(lease).template(template);
    }

    @Override
    public String toString() {
        return "VmSpec[" + vmId + " image=" + image + " cpus=" + cpus + " memory=" + memoryMiB + "M disk="
                + (diskSizeMiB == 0 ? "image" : Validation.sizeText(diskSizeMiB)) + " machine=" + machine
                + " accel=" + accel + " user=" + user + " egress=" + egress() + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VmSpec s && s.toString().equals(toString()) && Objects.equals(s.extraUserData, extraUserData)
                && s.bootTimeout.equals(bootTimeout) && s.shutdownGrace.equals(shutdownGrace) && s.hostname.equals(hostname)
                && s.sudo == sudo && s.keepConsole == keepConsole && s.warmStart == warmStart
                && Objects.equals(s.agentJar, agentJar) && Objects.equals(s.lease, lease) && Objects.equals(s.template, template);
    }

    @Override
    public int hashCode() {
        return vmId.hashCode();
    }

    /** Collects values; {@link #build()} validates all of them in one place. */
    public static final class Builder {
        private String vmId;
        private String image;
        private int cpus = Defaults.VM_CPUS;
        private long memoryMiB = Defaults.VM_MEMORY_MIB;
        private long diskSizeMiB;
        private String machine = Defaults.MACHINE;
        private Accel accel = Accel.AUTO;
        private String hostname;
        private String user = Defaults.USER;
        private boolean sudo = true;
        private String extraUserData;
        private Duration bootTimeout = Defaults.BOOT_TIMEOUT;
        // A throw-away VM's disk is discarded with it, so a clean guest shutdown protects nothing
        // and only delays the next build; templates that want one set a grace period.
        private Duration shutdownGrace = Duration.ZERO;
        private boolean keepConsole;
        // Off for plain engine callers (tests, the CLI without --warm); templates turn it on.
        private boolean warmStart;
        private EgressPolicy egress = EgressPolicy.DEFAULT;
        private AgentJar agentJar;
        private Duration lease;
        private String template;

        public Builder vmId(String v) { vmId = v; return this; }
        public Builder image(String v) { image = v; return this; }
        public Builder cpus(int v) { cpus = v; return this; }
        public Builder memoryMiB(long v) { memoryMiB = v; return this; }
        public Builder memory(String v) { memoryMiB = Validation.memoryMiB("memory", v); return this; }
        /** 0 keeps the image's size. */
        public Builder diskSizeMiB(long v) { diskSizeMiB = v; return this; }
        public Builder machine(String v) { machine = v; return this; }
        public Builder accel(Accel v) { accel = v; return this; }
        public Builder hostname(String v) { hostname = v; return this; }
        public Builder user(String v) { user = v; return this; }
        public Builder sudo(boolean v) { sudo = v; return this; }
        public Builder extraUserData(String v) { extraUserData = v; return this; }
        public Builder bootTimeout(Duration v) { bootTimeout = v; return this; }
        public Builder shutdownGrace(Duration v) { shutdownGrace = v; return this; }
        public Builder keepConsole(boolean v) { keepConsole = v; return this; }
        public Builder warmStart(boolean v) { warmStart = v; return this; }
        public Builder egress(EgressPolicy v) { egress = v; return this; }
        public Builder agentJar(AgentJar v) { agentJar = v; return this; }
        /** See {@link VmSpec#lease()}; null (the default) for none. */
        public Builder lease(Duration v) { lease = v; return this; }
        public Builder template(String v) { template = v; return this; }
        /** The text form ({@link EgressPolicy#parse}), checked here so every caller gets the same error. */
        public Builder egress(String v) { egress = EgressPolicy.parse("egress", v); return this; }

        public VmSpec build() {
            return new VmSpec(this);
        }
    }
}
