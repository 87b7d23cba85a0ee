package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Util;
import hudson.model.Computer;
import hudson.model.Label;
import hudson.model.Node;
import hudson.slaves.Cloud;
import hudson.slaves.NodeProvisioner.PlannedNode;
import io.jenkins.plugins.qemu.engine.cloud.AgentNaming;
import io.jenkins.plugins.qemu.engine.cloud.CapacityLedger;
import io.jenkins.plugins.qemu.engine.cloud.CloudValidation;
import io.jenkins.plugins.qemu.engine.cloud.Demand;
import io.jenkins.plugins.qemu.engine.cloud.ProvisioningBackoff;
import io.jenkins.plugins.qemu.engine.cloud.TemplateReadiness;
import io.jenkins.plugins.qemu.engine.cloud.TemplateSpec;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;
import jenkins.model.Jenkins;
import org.kohsuke.stapler.DataBoundConstructor;
import org.kohsuke.stapler.DataBoundSetter;

/**
 * A cloud of throw-away QEMU VMs on the controller's host. For each queued build whose label a
 * template matches, it books room in the cloud's {@link CapacityLedger} (instance cap and host
 * budget, VMs still booting included) and boots a VM in the background; the booted VM becomes a
 * {@link QemuAgent}. All decisions (validation, accounting, naming) are made by the engine's
 * Jenkins-free {@code cloud} package; this class only adapts them to Jenkins.
 */
public class QemuCloud extends Cloud {
    private static final Logger LOGGER = Logger.getLogger(QemuCloud.class.getName());

    public static final int DEFAULT_INSTANCE_CAP = 4;

    private List<QemuTemplate> templates = new ArrayList<>();
    private int instanceCap = DEFAULT_INSTANCE_CAP;
    private int hostCpus;
    private String hostMemory = "";
    private String imagesDir = "";
    private String stateDir = "";
    /** Minutes an agent's VM outlives this controller across a restart; 0 in a cloud saved before it existed: the default. */
    private int restartLeaseMinutes = (int) TemplateSpec.AGENT_LEASE.toMinutes();
    /**
     * What the cloud's capacity and back-off are booked under: kept across renames (the form
     * carries it) and configuration-as-code reloads (it defaults to the name, which a reload keeps).
     */
    private String id;
    /** Label expression of the Jenkins agents that run this cloud's VMs (QEMU hosts); blank: only the controller's own host, as before hosts existed. */
    private String hostLabel = "";
    /** Whether the controller's own host takes VMs too; null: the default (only when no hosts are configured). */
    private Boolean useBuiltInHost;

    @DataBoundConstructor
    public QemuCloud(String name) {
        super(name == null ? null : name.trim());
    }

    @NonNull
    public List<QemuTemplate> getTemplates() {
        return Collections.unmodifiableList(templates);
    }

    @DataBoundSetter
    public void setTemplates(List<QemuTemplate> templates) {
        this.templates = templates == null ? new ArrayList<>() : new ArrayList<>(templates);
    }

    public int getInstanceCap() {
        return instanceCap;
    }

    @DataBoundSetter
    public void setInstanceCap(int instanceCap) {
        this.instanceCap = instanceCap;
    }

    public int getHostCpus() {
        return hostCpus;
    }

    @DataBoundSetter
    public void setHostCpus(int hostCpus) {
        this.hostCpus = hostCpus;
    }

    public String getHostMemory() {
        return hostMemory;
    }

    @DataBoundSetter
    public void setHostMemory(String hostMemory) {
        this.hostMemory = hostMemory == null ? "" : hostMemory.trim();
    }

    public String getImagesDir() {
        return imagesDir;
    }

    @DataBoundSetter
    public void setImagesDir(String imagesDir) {
        this.imagesDir = imagesDir == null ? "" : imagesDir.trim();
    }

    public String getStateDir() {
        return stateDir;
    }

    @DataBoundSetter
    public void setStateDir(String stateDir) {
        this.stateDir = stateDir == null ? "" : stateDir.trim();
    }

    public int getRestartLeaseMinutes() {
        return restartLeaseMinutes;
    }

    @DataBoundSetter
    public void setRestartLeaseMinutes(int restartLeaseMinutes) {
        this.restartLeaseMinutes = restartLeaseMinutes;
    }

    /** The lease of this cloud's agent VMs, as checked (a bad saved value is reported, not guessed around). */
    Duration restartLease() {
        return Duration.ofMinutes(CloudValidation.restartLeaseMinutes("restartLeaseMinutes", restartLeaseMinutes));
    }

    /** The cloud's stable id; its name unless one was set. */
    public String getId() {
        return id == null || id.isBlank() ? name : id;
    }

    @DataBoundSetter
    public void setId(String id) {
        this.id = id == null || id.isBlank() ? null : id.trim();
    }

    public String getHostLabel() {
        return hostLabel;
    }

    @DataBoundSetter
    public void setHostLabel(String hostLabel) {
        this.hostLabel = hostLabel == null ? "" : hostLabel.trim();
    }

    /** Defaults to true without a host label and to false once one is set: hosts replace the controller's machine unless asked otherwise. */
    public boolean isUseBuiltInHost() {
        return useBuiltInHost == null ? hostLabel.isEmpty() : useBuiltInHost;
    }

    @DataBoundSetter
    public void setUseBuiltInHost(boolean useBuiltInHost) {
        this.useBuiltInHost = useBuiltInHost;
    }

    /** Whether VMs are placed on hosts ({@link QemuHosts}) rather than booted by the controller's own engine. */
    boolean usesHosts() {
        return !hostLabel.isEmpty();
    }

    /** Under which a template's VMs are counted and its failures backed off. */
    String templateKey(QemuTemplate t) {
        return TemplateReadiness.key(getId(), t.getLabels(), t.getImage());
    }

    protected Object readResolve() {
        if (templates == null) {
            templates = new ArrayList<>();
        }
        if (restartLeaseMinutes == 0) {
            restartLeaseMinutes = (int) TemplateSpec.AGENT_LEASE.toMinutes();
        }
        if (hostMemory == null) {
            hostMemory = "";
        }
        if (imagesDir == null) {
            imagesDir = "";
        }
        if (stateDir == null) {
            stateDir = "";
        }
        if (hostLabel == null) {
            hostLabel = ""; // saved before hosts existed: the controller's own host only
        }
        return this;
    }

    /** The first template whose labels satisfy the label; a null label only matches unlabelled templates. */
    @CheckForNull
    public QemuTemplate templateFor(@CheckForNull Label label) {
        for (QemuTemplate t : candidates()) {
            if (t.matches(label)) {
                return t;
            }
        }
        return null;
    }

    /** Its own templates, then the one-off templates of builds running a {@code qemu} step ({@link OneOffTemplates}). */
    List<QemuTemplate> candidates() {
        List<QemuTemplate> all = new ArrayList<>(templates);
        all.addAll(OneOffTemplates.get().of(name));
        return all;
    }

    /** The first template for the label that may boot a VM now (not refused, not backing off). */
    @CheckForNull
    QemuTemplate usableTemplateFor(@CheckForNull Label label) {
        for (QemuTemplate t : candidates()) {
            if (t.matches(label) && blockage(t) == null) {
                return t;
            }
        }
        return null;
    }

    /**
     * Why this template plans no VM now, in one line for the queue and the cloud page; null when
     * it may. A template that cannot boot at all (invalid settings, QEMU or the image missing) is
     * refused without trying; one whose boots failed waits out its back-off. Each new reason is
     * logged once.
     */
    @CheckForNull
    String blockage(QemuTemplate t) {
        QemuEngines engines = QemuEngines.get();
        ProvisioningBackoff backoff = engines.backoff();
        String key = templateKey(t);
        String problem = engines.readiness(key, () -> {
            if (usesHosts()) {
                // QEMU and the image are each host's to have; placement skips the hosts that lack them.
                try {
                    t.toSpec();
                    return null;
                } catch (InvalidInputException e) {
                    return "the template's settings are invalid: " + e.getMessage();
                }
            }
            try {
                restartLease();
                return TemplateReadiness.problem(engineConfig(), t::toSpec);
            } catch (InvalidInputException e) {
                return "the cloud's settings are invalid: " + e.getMessage();
            }
        });
        if (backoff.refuse(key, problem)) {
            LOGGER.warning("Cloud " + name + ", template '" + t.getLabels() + "' cannot boot VMs: " + problem);
        }
        return backoff.blocked(key).map(b -> b.describe(backoff.now())).orElse(null);
    }

    /** What the cloud page shows: each template's VMs (booting and running) and its state, failures included. */
    public List<TemplateStatus> getTemplateStatuses() {
        return TemplateStatus.of(this);
    }

    /** What the cloud page shows of its hosts (none without a host label): each host's VMs and why it takes none now. */
    public List<io.jenkins.plugins.qemu.engine.cloud.HostPlacement.HostView> getHostViews() {
        return usesHosts() ? QemuHosts.get().views(this) : List.of();
    }

    @Override
    public boolean canProvision(@NonNull CloudState state) {
        return usableTemplateFor(state.getLabel()) != null;
    }

    @Override
    public Collection<PlannedNode> provision(@NonNull CloudState state, int excessWorkload) {
        try {
            return plan(state, excessWorkload);
        } catch (RuntimeException e) {
            // A runtime exception would abort Jenkins' provisioning pass for every cloud.
            LOGGER.log(Level.WARNING, "Cloud " + name + " failed to plan VMs for " + state.getLabel(), e);
            return List.of();
        }
    }

    private Collection<PlannedNode> plan(CloudState state, int excessWorkload) {
        QemuTemplate template = usableTemplateFor(state.getLabel());
        if (template == null) {
            return List.of();
        }
        TemplateSpec spec;
        CapacityLedger.Limits limits;
        EngineConfig config;
        Duration lease;
        try {
            spec = template.toSpec();
            limits = limits();
            config = engineConfig();
            lease = restartLease();
        } catch (InvalidInputException e) {
            // blockage() refuses such a template; a change between the two calls ends up here
            LOGGER.fine(() -> "Cloud " + name + " cannot provision for " + state.getLabel() + ": " + e.getMessage());
            return List.of();
        }
        if (usesHosts()) {
            return QemuHosts.get().plan(this, template, spec, state.getLabel(), excessWorkload);
        }
        CapacityLedger ledger = QemuEngines.get().ledger(getId(), limits);
        String key = templateKey(template);
        CapacityLedger.Claim claim = new CapacityLedger.Claim(key, spec.instanceCap(), spec.cpus(), spec.memoryMiB(),
                CapacityLedger.Purpose.AGENT);
        int wanted = Demand.vmsFor(excessWorkload, spec.executors());
        List<PlannedNode> planned = new ArrayList<>();
        for (int i = 0; i < wanted; i++) {
            String vmId = VmSpec.newVmId();
            Optional<CapacityLedger.Reservation> reservation = ledger.tryReserve(vmId, claim);
            if (reservation.isEmpty()) {
                LOGGER.fine(() -> "Cloud " + name + " plans no more VMs now: " + ledger.refusal(claim));
                break;
            }
            String nodeName = AgentNaming.nodeName(name, vmId);
            ProvisioningTask task = new ProvisioningTask(getId(), name, config, spec, lease, vmId, reservation.get(), key,
                    state.getLabel());
            Computer.threadPoolForRemoting.execute(task);
            planned.add(new PlannedNode(nodeName, task, spec.executors()));
            LOGGER.fine(() -> "Cloud " + name + " planned " + nodeName + " for " + state.getLabel() + " (" + ledger.usage() + ")");
        }
        return planned;
    }

    /** The saved QEMU cloud of this name (what a Test button books against), or null for a cloud not saved yet. */
    @CheckForNull
    static QemuCloud savedCloudNamed(@CheckForNull String name) {
        if (name == null) {
            return null;
        }
        Cloud c = Jenkins.get().clouds.getByName(name.trim());
        return c instanceof QemuCloud qemu ? qemu : null;
    }

    /** The cap and host budget as configured; invalid values are reported rather than guessed around. */
    public CapacityLedger.Limits limits() {
        return new CapacityLedger.Limits(
                CloudValidation.instanceCap("instanceCap", instanceCap),
                CloudValidation.hostCpus("hostCpus", hostCpus),
                CloudValidation.hostMemoryMiB("hostMemory", hostMemory));
    }

    public EngineConfig engineConfig() {
        return engineConfig(imagesDir, stateDir);
    }

    /**
     * Directories for the engine: blank ones fall back to the engine's defaults below the
     * Jenkins user's {@code ~/.cache/qemu-agents}. The owner id is derived from this
     * controller's instance id, so the reaper never touches another controller's VMs.
     */
    static EngineConfig engineConfig(String imagesDir, String stateDir) {
        String owner = ownerId(Jenkins.get());
        String images = CloudValidation.directory("imagesDir", imagesDir);
        String state = CloudValidation.directory("stateDir", stateDir);
        EngineConfig config = EngineConfig.defaults(images == null ? null : Path.of(images), owner);
        return state == null ? config : config.withStateDir(Path.of(state));
    }

    /**
     * The engine owner id of this controller: its instance id plus a digest of its home
     * directory's path, so a controller started from a copy of the same JENKINS_HOME on the same
     * host (same instance id) is another owner and never judges this one's VMs.
     */
    static String ownerId(Jenkins jenkins) {
        String home = jenkins.getRootDir().getAbsolutePath();
        String digest = Util.getDigestOf(home).substring(0, 8);
        return AgentNaming.ownerId(jenkins.getLegacyInstanceId().substring(0, Math.min(32, jenkins.getLegacyInstanceId().length()))
                + "-" + digest);
    }

    @Override
    public String toString() {
        return "QemuCloud[" + name + ", " + templates.size() + " templates, cap " + instanceCap + "]";
    }
}
