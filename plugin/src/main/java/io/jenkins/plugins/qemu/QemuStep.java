package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.AbortException;
import hudson.EnvVars;
import hudson.Extension;
import hudson.model.Label;
import hudson.model.Run;
import hudson.model.TaskListener;
import hudson.slaves.Cloud;
import io.jenkins.plugins.qemu.engine.cloud.BuildOverride;
import io.jenkins.plugins.qemu.engine.cloud.TemplateReadiness;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.io.IOException;
import java.io.Serializable;
import java.util.Set;
import jenkins.model.Jenkins;
import org.jenkinsci.plugins.workflow.steps.BodyExecution;
import org.jenkinsci.plugins.workflow.steps.BodyExecutionCallback;
import org.jenkinsci.plugins.workflow.steps.EnvironmentExpander;
import org.jenkinsci.plugins.workflow.steps.Step;
import org.jenkinsci.plugins.workflow.steps.StepContext;
import org.jenkinsci.plugins.workflow.steps.StepDescriptor;
import org.jenkinsci.plugins.workflow.steps.StepExecution;
import org.kohsuke.stapler.DataBoundConstructor;
import org.kohsuke.stapler.DataBoundSetter;

/**
 * {@code qemu(label: 'debian-12', cpus: 4, memory: '8G') { node(QEMU_LABEL) { ... } }}: a block
 * whose {@code node} blocks get VMs of a one-off template, the cloud template for {@code label}
 * with this build's image, size and keep time. What a build may ask for is bounded by that
 * template ({@code maxCpus}, {@code maxMemory}, {@code maxDiskSize}, {@code overrideImages}) and
 * every VM by the cloud's caps and budget; asking for more fails the step at once, naming the
 * field. The one-off template has a label of its own, in {@code QEMU_LABEL} inside the block, and
 * exists while the block runs (as the kubernetes plugin's {@code podTemplate} and {@code POD_LABEL}).
 */
public final class QemuStep extends Step implements Serializable {
    private static final long serialVersionUID = 1L;
    /** The environment variable that holds the one-off template's label inside the block. */
    public static final String LABEL_VARIABLE = "QEMU_LABEL";

    private final String label;
    private String image;
    private Integer cpus;
    private String memory;
    private String diskSize;
    private Integer keepFailedMinutes;

    @DataBoundConstructor
    public QemuStep(String label) {
        this.label = label == null ? "" : label.trim();
    }

    public String getLabel() { return label; }
    public String getImage() { return image; }
    public Integer getCpus() { return cpus; }
    public String getMemory() { return memory; }
    public String getDiskSize() { return diskSize; }
    public Integer getKeepFailedMinutes() { return keepFailedMinutes; }

    @DataBoundSetter public void setImage(String image) { this.image = blankToNull(image); }
    @DataBoundSetter public void setCpus(Integer cpus) { this.cpus = cpus; }
    @DataBoundSetter public void setMemory(String memory) { this.memory = blankToNull(memory); }
    @DataBoundSetter public void setDiskSize(String diskSize) { this.diskSize = blankToNull(diskSize); }
    @DataBoundSetter public void setKeepFailedMinutes(Integer keepFailedMinutes) { this.keepFailedMinutes = keepFailedMinutes; }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    BuildOverride override() {
        return new BuildOverride(image, cpus, memory, diskSize, keepFailedMinutes);
    }

    @Override
    public StepExecution start(StepContext context) {
        return new Execution(this, context);
    }

    /** Registers the one-off template, runs the block with its label, drops the template when the block ends. */
    static final class Execution extends StepExecution {
        private static final long serialVersionUID = 1L;
        private final QemuStep step;
        private final String oneOffLabel = "qemu-" + VmSpec.newVmId().substring(3);
        private String cloudName;
        @CheckForNull
        private transient BodyExecution body;

        Execution(QemuStep step, StepContext context) {
            super(context);
            this.step = step;
        }

        @Override
        public boolean start() throws Exception {
            String described = register();
            getContext().get(TaskListener.class).getLogger().println(described);
            body = getContext().newBodyInvoker()
                    .withContext(EnvironmentExpander.merge(getContext().get(EnvironmentExpander.class), new LabelVariable(oneOffLabel)))
                    .withCallback(new Unregister(oneOffLabel))
                    .start();
            return false;
        }

        /** Derives and registers the one-off template; says which, or fails naming what was asked too much of. */
        private String register() throws AbortException {
            Label base = Jenkins.get().getLabel(step.label);
            for (Cloud c : Jenkins.get().clouds) {
                QemuTemplate t = c instanceof QemuCloud qemu ? qemu.templateFor(base) : null;
                if (t != null) {
                    QemuCloud cloud = (QemuCloud) c;
                    QemuTemplate oneOff;
                    String problem;
                    try {
                        oneOff = t.derive(step.override(), oneOffLabel);
                        problem = TemplateReadiness.problem(cloud.engineConfig(), oneOff::toSpec);
                    } catch (InvalidInputException e) {
                        problem = "refuses this build's VM: " + e.getMessage();
                        oneOff = null;
                    }
                    if (problem != null) {
                        // Fail now, not by a node block that waits for a VM that never boots.
                        throw new AbortException("qemu: template '" + t.getLabels() + "' of cloud '" + cloud.name + "' "
                                + (oneOff == null ? problem : "cannot boot this build's VM: " + problem));
                    }
                    OneOffTemplates.get().register(cloud.name, oneOff);
                    cloudName = cloud.name;
                    return "qemu: node blocks for label " + oneOffLabel + " (in " + LABEL_VARIABLE + ") get VMs of template '" + t.getLabels()
                            + "' of cloud '" + cloud.name + "'" + asked(step);
                }
            }
            throw new AbortException("qemu: no QEMU cloud has a template for the label '" + step.label + "'");
        }

        private static String asked(QemuStep s) {
            StringBuilder b = new StringBuilder();
            append(b, "image", s.image);
            append(b, "cpus", s.cpus);
            append(b, "memory", s.memory);
            append(b, "diskSize", s.diskSize);
            append(b, "keepFailedMinutes", s.keepFailedMinutes);
            return b.length() == 0 ? " as they are" : " with" + b;
        }

        private static void append(StringBuilder b, String field, Object value) {
            if (value != null) {
                b.append(' ').append(field).append(' ').append(value);
            }
        }

        @Override
        public void stop(@NonNull Throwable cause) throws Exception {
            if (body != null) {
                body.cancel(cause);
            } else {
                getContext().onFailure(cause);
            }
        }

        /** After a controller restart the block runs on: its template is registered again under the same label. */
        @Override
        public void onResume() {
            QemuCloud cloud = QemuCloud.savedCloudNamed(cloudName);
            QemuTemplate t = cloud == null ? null : cloud.templateFor(Jenkins.get().getLabel(step.label));
            if (t != null) {
                try {
                    OneOffTemplates.get().register(cloudName, t.derive(step.override(), oneOffLabel));
                } catch (InvalidInputException e) {
                    getContext().onFailure(new AbortException("qemu: after the restart, the template refuses this build's VM: " + e.getMessage()));
                }
            }
        }
    }

    /** {@code QEMU_LABEL} inside the block. */
    private static final class LabelVariable extends EnvironmentExpander {
        private static final long serialVersionUID = 1L;
        private final String label;

        LabelVariable(String label) {
            this.label = label;
        }

        @Override
        public void expand(@NonNull EnvVars env) throws IOException, InterruptedException {
            env.override(LABEL_VARIABLE, label);
        }
    }

    /** Drops the one-off template when the block ends, however it ends. */
    private static final class Unregister extends BodyExecutionCallback.TailCall {
        private static final long serialVersionUID = 1L;
        private final String label;

        Unregister(String label) {
            this.label = label;
        }

        @Override
        protected void finished(StepContext context) {
            OneOffTemplates.get().unregister(label);
        }
    }

    @Extension(optional = true)
    public static final class DescriptorImpl extends StepDescriptor {
        @Override
        public Set<? extends Class<?>> getRequiredContext() {
            return Set.of(Run.class, TaskListener.class);
        }

        @Override
        public String getFunctionName() {
            return "qemu";
        }

        @NonNull
        @Override
        public String getDisplayName() {
            return "Run node blocks on QEMU VMs of a one-off template";
        }

        @Override
        public boolean takesImplicitBlockArgument() {
            return true;
        }
    }
}
