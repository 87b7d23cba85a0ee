package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Extension;
import hudson.model.Computer;
import hudson.model.Descriptor;
import hudson.model.Node;
import hudson.model.TaskListener;
import hudson.slaves.AbstractCloudSlave;
import hudson.slaves.OfflineCause;
import io.jenkins.plugins.qemu.engine.cloud.AgentNaming;
import io.jenkins.plugins.qemu.engine.cloud.BuildPhases;
import io.jenkins.plugins.qemu.engine.cloud.TemplateSpec;
import io.jenkins.plugins.qemu.engine.vm.PhaseTimings;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import net.sf.json.JSONObject;
import org.kohsuke.stapler.StaplerRequest2;

/**
 * The Jenkins agent of one QEMU VM. It is made by {@link ProvisioningTask} once the VM accepts SSH
 * logins and connects through {@link QemuAgentLauncher} on the engine's connection (the VM's own
 * key, the pinned host key). Terminating it destroys the VM. It is persisted like any agent
 * (cloud, VM id, and in its launcher the SSH port, the pinned host key and the VM's key as a
 * {@code Secret}), and the VM is leased, so both outlive a controller restart: the restarted
 * controller re-attaches the VM ({@link #reattach}, once, from the start-up cleanup or the first
 * launch, whichever comes first) and the agent reconnects, so a build's running {@code sh} step
 * carries on. An agent whose VM cannot be re-attached (gone, lease over, not provably ours) is
 * removed with the reason.
 */
public class QemuAgent extends AbstractCloudSlave {
    private static final long serialVersionUID = 1L;

    private final String cloudName;
    /** The cloud's ledger key; null in agents saved before clouds had ids (their name was the key). */
    private final String cloudId;
    private final String vmId;
    private final String image;
    /** The VM of this controller session; null after a restart, when the VM no longer exists. */
    private transient volatile Vm vm;
    private transient List<String> provisioningLog;
    private transient volatile String terminationReason;
    /** Its template's back-off key ({@link QemuCloud#templateKey}); null in agents saved before it was kept. */
    private final String templateKey;
    /** The template's name in metrics ({@link TemplateSpec#family()}); null in an agent saved before it was kept. */
    @CheckForNull
    private final String family;
    /** The warm pool this agent waits in ({@link QemuCloud#templateKey}) and the template version it was booted for; null when not a member. */
    private volatile String poolKey;
    private volatile String poolDigest;
    /** When the VM was asked for and when it accepted its login; null after a restart. */
    private transient Instant requested;
    private transient Instant online;
    /** Set when the agent was read from disk (a controller restart): its VM must be re-attached before it counts as alive. */
    private transient volatile boolean fromDisk;
    private transient CompletableFuture<Vm> reattached; // guarded by this
    private transient volatile String reattachFailure;
    /** The QEMU host the VM runs on ({@link QemuHosts}); null for a VM of the controller's own engine (a cloud without hosts). */
    private final String host;
    /** The host agent's channel the VM was booted over: the VM lives only as long as it (null for the built-in host or after a restart). */
    private transient volatile hudson.remoting.VirtualChannel hostChannel;
    private transient volatile boolean restoredOnHost;
    /** How long a closing channel may take before the VM is destroyed under it anyway. */
    private static final Duration DISCONNECT_WAIT = Duration.ofSeconds(10);

    QemuAgent(String cloudId, String cloudName, Vm vm, TemplateSpec template, String templateKey, List<String> provisioningLog,
            Instant requested)
            throws Descriptor.FormException, IOException {
        this(cloudId, cloudName, vm.id(), new QemuAgentLauncher(vm.sshPort(), vm.clientKey().privateKeyOpenSsh(), vm.hostKeyLine(),
                template.remoteFs(), template.jvmOptions()), null, template, templateKey, provisioningLog, requested);
        this.vm = vm;
    }

    /** The agent of a VM {@link HostProvisioningTask} booted on a QEMU host; its launcher connects through that host. */
    QemuAgent(String cloudId, String cloudName, io.jenkins.plugins.qemu.engine.host.BootedVm booted,
            @CheckForNull hudson.remoting.VirtualChannel hostChannel, TemplateSpec template, String templateKey,
            List<String> provisioningLog, Instant requested) throws Descriptor.FormException, IOException {
        this(cloudId, cloudName, booted.vmId(), new QemuHostLauncher(booted.host(), template.remoteFs()), booted.host(), template,
                templateKey, provisioningLog, requested);
        this.hostChannel = hostChannel;
        this.restoredOnHost = booted.restored();
    }

    private QemuAgent(String cloudId, String cloudName, String vmId, hudson.slaves.ComputerLauncher launcher, @CheckForNull String host,
            TemplateSpec template, String templateKey, List<String> provisioningLog, Instant requested)
            throws Descriptor.FormException, IOException {
        super(AgentNaming.nodeName(cloudName, vmId), template.remoteFs(), launcher);
        this.cloudName = cloudName;
        this.cloudId = cloudId;
        this.vmId = vmId;
        this.image = template.image();
        this.provisioningLog = List.copyOf(provisioningLog);
        this.requested = requested;
        this.templateKey = templateKey;
        this.family = template.family();
        this.online = Instant.now();
        this.host = host;
        describe(template, host == null ? "" : " on host " + host);
    }

    private void describe(TemplateSpec template, String where) throws IOException {
        setNodeDescription("QEMU VM " + vmId + " of cloud " + cloudName + where + ": " + template.image() + ", "
                + template.cpus() + " CPUs, " + template.memoryMiB() + "M, " + template.retention());
        setNumExecutors(template.executors());
        setLabelString(template.labels());
        // A labelled VM is made for a labelled build; do not let unlabelled builds take its executor.
        setMode(template.labels().isEmpty() ? Node.Mode.NORMAL : Node.Mode.EXCLUSIVE);
        setRetentionStrategy(new QemuRetentionStrategy(template.idleMinutes(), template.launchTimeout(), template.keepFailedMinutes()));
    }

    public String getCloudName() {
        return cloudName;
    }

    /** The ledger this agent's VM is booked in. */
    public String getCloudId() {
        return cloudId == null ? cloudName : cloudId;
    }

    @CheckForNull
    /** The template's name in metrics; an agent saved before it was kept counts under its image. */
    String getFamily() {
        return family != null ? family : image;
    }

    String getTemplateKey() {
        return templateKey;
    }

    public String getVmId() {
        return vmId;
    }

    public String getImage() {
        return image;
    }

    /** The QEMU host of this agent's VM; null when the controller's own engine runs it (a cloud without hosts). */
    @CheckForNull
    public String getHost() {
        return host;
    }

    /** The running VM, or null when it is gone (destroyed, died) or, after a restart, not re-attached (yet). */
    @CheckForNull
    Vm liveVm() {
        if (host != null) {
            return null; // the host's engine has it; see isVmAlive
        }
        Vm v = vm;
        if (v == null) {
            v = QemuEngines.get().findVm(vmId);
        }
        return v != null && v.isAlive() ? v : null;
    }

    /** True also while a VM from before a restart has not been re-attached yet, so nothing removes the agent meanwhile. */
    boolean isVmAlive() {
        if (host != null) {
            return !fromDisk && QemuHosts.get().vmAlive(this, hostChannel);
        }
        return liveVm() != null || reattachPending();
    }

    private synchronized boolean reattachPending() {
        return fromDisk && (reattached == null || !reattached.isDone());
    }

    /**
     * The VM of this agent: the one booted for it, or, for an agent read from disk after a
     * controller restart, its leased VM taken over by this controller's engine (tried once;
     * every caller waits for that one attempt). Null when there is none, with the reason in
     * {@link #reattachFailure()} and the log.
     */
    @CheckForNull
    Vm reattach(TaskListener listener) {
        Vm v = vm;
        if (host != null) { // nothing to re-attach: a host's VMs end with its connection, which a restart closes
            reattachFailure = fromDisk ? "its VM ran on QEMU host " + host + ", whose VMs ended with the host's connection" : null;
            return null;
        }
        if (v != null || !fromDisk) {
            return v != null && v.isAlive() ? v : null;
        }
        CompletableFuture<Vm> attempt;
        boolean mine = false;
        synchronized (this) {
            if (reattached == null) {
                reattached = new CompletableFuture<>();
                mine = true;
            }
            attempt = reattached;
        }
        if (mine) {
            Vm adopted = null;
            try {
                adopted = QemuReattach.adopt(this, launcher(), listener);
                vm = adopted;
            } catch (IOException | RuntimeException e) {
                reattachFailure = e.getMessage();
                listener.getLogger().println("Cannot re-attach VM " + vmId + " after the controller restart: " + e.getMessage());
            } catch (InterruptedException e) {
                reattachFailure = "interrupted while re-attaching";
                Thread.currentThread().interrupt();
            } finally {
                attempt.complete(adopted);
            }
        }
        return attempt.join();
    }

    /** Why {@link #reattach} found no VM; null if it did or was not needed. */
    @CheckForNull
    String reattachFailure() {
        return reattachFailure;
    }

    private QemuAgentLauncher launcher() throws IOException {
        if (getLauncher() instanceof QemuAgentLauncher l) {
            return l;
        }
        throw new IOException("agent " + getNodeName() + " was saved by an older version of the plugin (launcher "
                + getLauncher().getClass().getSimpleName() + ", no kept key); it cannot be re-attached");
    }

    /** Invoked by XStream when the agent is read from disk (controller start, configuration reload). */
    @Override
    protected Object readResolve() {
        Object self = super.readResolve();
        fromDisk = true;
        return self;
    }

    /** Makes this agent a member of a template's warm pool, before it is added to Jenkins. */
    void joinPool(String templateKey, String templateDigest) {
        poolKey = templateKey;
        poolDigest = templateDigest;
    }

    /** The agent took a build: it is an ordinary one-shot agent from now on. Returns whether it was a pool member. */
    boolean leavePool() {
        boolean was = poolKey != null;
        poolKey = null;
        poolDigest = null;
        return was;
    }

    /** Whether this agent waits in the warm pool of the template with this key. */
    boolean isPooledFor(String templateKey) {
        return templateKey.equals(poolKey);
    }

    boolean isPooled() {
        return poolKey != null;
    }

    @CheckForNull
    String getPoolDigest() {
        return poolDigest;
    }

    /** The phases up to {@code buildStarted} of a build that entered the queue at {@code queued}. */
    BuildPhases phases(@CheckForNull Instant queued, @CheckForNull Instant connected, Instant buildStarted) {
        Vm v = vm;
        String boot = host != null ? (restoredOnHost ? "warm restore" : "cold boot") + " on host " + host
                : v == null ? null : v.restored() ? "warm restore" : "cold boot";
        return new BuildPhases(queued, requested, online, connected, buildStarted, boot);
    }

    /** Lines the engine reported while booting; empty after a restart. */
    List<String> provisioningLog() {
        List<String> lines = provisioningLog;
        return lines == null ? List.of() : lines;
    }

    /** What keep-on-failure decided for this agent (see {@link KeepState}); null in an agent saved before it was kept. */
    @CheckForNull
    private KeepState keepState;

    synchronized KeepState keepState() {
        if (keepState == null) {
            keepState = new KeepState();
        }
        return keepState;
    }

    @Override
    public QemuComputer createComputer() {
        return new QemuComputer(this);
    }

    /** {@link #terminate()} with the reason the agent log and the offline cause show. */
    void terminate(String reason) throws IOException, InterruptedException {
        terminationReason = reason;
        terminate();
    }

    /**
     * Closes the agent's channel, then destroys the VM: destroying first would cut a channel that
     * is still open and log an I/O error with a stack trace for every one-shot agent. Survives a
     * VM that is already gone (it died, or the controller restarted) and always gives the VM's
     * room back to the cloud.
     */
    @Override
    protected void _terminate(TaskListener listener) {
        try {
            disconnect(listener);
            if (host != null) {
                QemuHosts.get().destroy(this, listener); // on its host, through the host's engine
                return;
            }
            Vm v = vm != null ? vm : QemuEngines.get().findVm(vmId);
            if (v == null) {
                listener.getLogger().println("VM " + vmId + " is already gone");
                return;
            }
            Instant start = Instant.now();
            v.destroy();
            listener.getLogger().println("Destroyed VM " + vmId + " in " + PhaseTimings.millis(Duration.between(start, Instant.now())));
        } finally {
            QemuEngines.get().release(getCloudId(), vmId);
        }
    }

    private void disconnect(TaskListener listener) {
        Computer c = toComputer();
        if (c == null || c.getChannel() == null) {
            return;
        }
        String reason = terminationReason == null ? "the agent is being removed" : terminationReason;
        hudson.remoting.VirtualChannel open = c.getChannel();
        try {
            c.disconnect(OfflineCause.create(Reasons.agentTerminated(reason))).get(DISCONNECT_WAIT.toSeconds(), TimeUnit.SECONDS);
            // disconnect only sends the close request; the agent's answer must arrive before the VM
            // goes, or the channel's reader meets end-of-file and logs an I/O error with a stack trace.
            if (open instanceof hudson.remoting.Channel channel) {
                channel.join(DISCONNECT_WAIT.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            listener.getLogger().println("Closing the agent channel of " + vmId + " did not finish cleanly (" + e + "); destroying the VM anyway");
        }
    }

    /** Agents of a cloud are throw-away: change the template instead of the agent. */
    @Override
    public Node reconfigure(@NonNull StaplerRequest2 req, JSONObject form) throws Descriptor.FormException {
        throw new Descriptor.FormException("QEMU agents cannot be reconfigured; change the cloud's template instead", "name");
    }

    /** Registers the node type; such agents are only ever made by a {@link QemuCloud}. */
    @Extension
    public static final class DescriptorImpl extends SlaveDescriptor {
        @NonNull
        @Override
        public String getDisplayName() {
            return "QEMU VM agent";
        }

        @Override
        public boolean isInstantiable() {
            return false;
        }
    }
}
