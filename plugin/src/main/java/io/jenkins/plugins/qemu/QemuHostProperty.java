package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Extension;
import hudson.model.Node;
import hudson.slaves.NodeProperty;
import hudson.slaves.NodePropertyDescriptor;
import hudson.util.FormValidation;
import io.jenkins.plugins.qemu.engine.cloud.CloudValidation;
import io.jenkins.plugins.qemu.engine.cloud.HostBudget;
import io.jenkins.plugins.qemu.engine.host.HostSetup;
import org.jenkinsci.Symbol;
import org.kohsuke.stapler.DataBoundConstructor;
import org.kohsuke.stapler.DataBoundSetter;
import org.kohsuke.stapler.QueryParameter;
import org.kohsuke.stapler.verb.POST;

/**
 * What a QEMU host (a Jenkins agent a cloud's {@code hostLabel} selects) lets the clouds' VMs take
 * and where its engine keeps its files: an instance cap of its own, vCPUs and memory (blank or 0:
 * the machine's own size, as the host reports it), the image catalog and the state directory on
 * the host's file system (blank: the engine's defaults below the home of the user the agent runs
 * as). A host without this property is used with all defaults. It is set on the host agent's
 * configuration page (or in JCasC under the node's {@code nodeProperties} as {@code qemuHost}).
 */
public final class QemuHostProperty extends NodeProperty<Node> {
    private int instanceCap;
    private int cpus;
    private String memory = "";
    private String imagesDir = "";
    private String stateDir = "";

    @DataBoundConstructor
    public QemuHostProperty() {}

    public int getInstanceCap() {
        return instanceCap;
    }

    @DataBoundSetter
    public void setInstanceCap(int instanceCap) {
        this.instanceCap = instanceCap;
    }

    public int getCpus() {
        return cpus;
    }

    @DataBoundSetter
    public void setCpus(int cpus) {
        this.cpus = cpus;
    }

    public String getMemory() {
        return memory;
    }

    @DataBoundSetter
    public void setMemory(String memory) {
        this.memory = memory == null ? "" : memory.trim();
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

    protected Object readResolve() {
        memory = memory == null ? "" : memory;
        imagesDir = imagesDir == null ? "" : imagesDir;
        stateDir = stateDir == null ? "" : stateDir;
        return this;
    }

    /** The host's budget for placement; invalid values throw naming the field and value. */
    HostBudget budget(String host) {
        return new HostBudget(host, CloudValidation.templateInstanceCap("instanceCap", instanceCap),
                CloudValidation.hostCpus("cpus", cpus), CloudValidation.hostMemoryMiB("memory", memory));
    }

    /** What the host's engine is opened with; the owner id is the controller's. */
    HostSetup setup(String host, String ownerId) {
        return new HostSetup(host, CloudValidation.directory("imagesDir", imagesDir), CloudValidation.directory("stateDir", stateDir), ownerId);
    }

    /** The property of a host, or one with every default when the admin set none. */
    static QemuHostProperty of(@CheckForNull Node node) {
        QemuHostProperty p = node == null ? null : node.getNodeProperty(QemuHostProperty.class);
        return p != null ? p : new QemuHostProperty();
    }

    /** Offered on every permanent agent's page, never on a QEMU VM agent (a VM is no host) nor the controller (the built-in host uses the cloud's own settings). */
    @Extension
    @Symbol("qemuHost")
    public static final class DescriptorImpl extends NodePropertyDescriptor {
        @NonNull
        @Override
        public String getDisplayName() {
            return "QEMU host for QEMU clouds";
        }

        @Override
        public boolean isApplicable(Class<? extends Node> targetType) {
            return !QemuAgent.class.isAssignableFrom(targetType) && !jenkins.model.Jenkins.class.isAssignableFrom(targetType);
        }

        @POST
        public FormValidation doCheckInstanceCap(@QueryParameter String value) {
            return FormChecks.field(() -> CloudValidation.templateInstanceCap("instanceCap", FormChecks.parseInt("instanceCap", value)));
        }

        @POST
        public FormValidation doCheckCpus(@QueryParameter String value) {
            return FormChecks.field(() -> CloudValidation.hostCpus("cpus", FormChecks.parseInt("cpus", value)));
        }

        @POST
        public FormValidation doCheckMemory(@QueryParameter String value) {
            return FormChecks.field(() -> CloudValidation.hostMemoryMiB("memory", value));
        }

        @POST
        public FormValidation doCheckImagesDir(@QueryParameter String value) {
            return FormChecks.field(() -> CloudValidation.directory("imagesDir", value));
        }

        @POST
        public FormValidation doCheckStateDir(@QueryParameter String value) {
            return FormChecks.field(() -> CloudValidation.directory("stateDir", value));
        }
    }
}
