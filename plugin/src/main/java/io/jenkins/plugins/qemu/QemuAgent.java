package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Extension;
import hudson.model.Descriptor;
import hudson.model.Node;
import hudson.model.TaskListener;
import hudson.slaves.AbstractCloudSlave;
import io.jenkins.plugins.qemu.engine.cloud.AgentNaming;
import io.jenkins.plugins.qemu.engine.cloud.TemplateSpec;
import io.jenkins.plugins.qemu.engine.vm.PhaseTimings;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import net.sf.json.JSONObject;
import org.kohsuke.stapler.StaplerRequest2;

/**
 * The Jenkins agent of one QEMU VM. It is made by {@link ProvisioningTask} once the VM accepts SSH
 * logins and connects through {@link QemuSshLauncher} with the VM's own key and pinned host key.
 * Terminating it destroys the VM. Only the cloud name and VM id are persisted: after a controller
 * restart the VM is gone, and the agent is removed by {@link QemuCleanup} instead of being
 * relaunched.
 */
public class QemuAgent extends AbstractCloudSlave {
    private static final long serialVersionUID = 1L;

    private final String cloudName;
    private final String vmId;
    private final String image;
    /** The VM of this controller session; null after a restart, when the VM no longer exists. */
    private transient volatile Vm vm;
    private transient List<String> provisioningLog;

    QemuAgent(String cloudName, Vm vm, TemplateSpec template, List<String> provisioningLog)
            throws Descriptor.FormException, IOException {
        super(AgentNaming.nodeName(cloudName, vm.id()), template.remoteFs(),
                new QemuSshLauncher(vm.sshPort(), template.user(), vm.clientKey().privateKeyOpenSsh(), vm.hostKeyLine(),
                        template.jvmOptions()));
        this.cloudName = cloudName;
        this.vmId = vm.id();
        this.image = template.image();
        this.vm = vm;
        this.provisioningLog = List.copyOf(provisioningLog);
        setNodeDescription("QEMU VM " + vm.id() + " of cloud " + cloudName + ": " + template.image() + ", "
                + template.cpus() + " CPUs, " + template.memoryMiB() + "M, " + template.retention());
        setNumExecutors(template.executors());
        setLabelString(template.labels());
        // A labelled VM is made for a labelled build; do not let unlabelled builds take its executor.
        setMode(template.labels().isEmpty() ? Node.Mode.NORMAL : Node.Mode.EXCLUSIVE);
        setRetentionStrategy(new QemuRetentionStrategy(template.idleMinutes()));
    }

    public String getCloudName() {
        return cloudName;
    }

    public String getVmId() {
        return vmId;
    }

    public String getImage() {
        return image;
    }

    /** The running VM, or null when it is gone (destroyed, died, or from before a restart). */
    @CheckForNull
    Vm liveVm() {
        Vm v = vm;
        if (v == null) {
            v = QemuEngines.get().findVm(vmId);
        }
        return v != null && v.isAlive() ? v : null;
    }

    boolean isVmAlive() {
        return liveVm() != null;
    }

    /** Lines the engine reported while booting; empty after a restart. */
    List<String> provisioningLog() {
        List<String> lines = provisioningLog;
        return lines == null ? List.of() : lines;
    }

    @Override
    public QemuComputer createComputer() {
        return new QemuComputer(this);
    }

    /**
     * Destroys the VM. Survives a VM that is already gone (it died, or the controller restarted)
     * and always gives the VM's room back to the cloud.
     */
    @Override
    protected void _terminate(TaskListener listener) {
        try {
            Vm v = vm != null ? vm : QemuEngines.get().findVm(vmId);
            if (v == null) {
                listener.getLogger().println("VM " + vmId + " is already gone");
                return;
            }
            Instant start = Instant.now();
            v.destroy();
            listener.getLogger().println("Destroyed VM " + vmId + " in " + PhaseTimings.millis(Duration.between(start, Instant.now())));
        } finally {
            QemuEngines.get().release(cloudName, vmId);
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
