package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import hudson.model.Action;
import hudson.model.Queue;
import hudson.model.Run;
import io.jenkins.plugins.qemu.engine.usage.VmUsage;
import io.jenkins.plugins.qemu.engine.vm.Vm;

/**
 * What a build's QEMU VM used and how it came to be, on the build's page: one per VM the build
 * ran on (a pipeline with two {@code node} blocks has two), kept with the build after the VM is
 * gone. The figures are the engine's ({@link VmUsage#summary()}: vCPU time, QEMU's CPU, host RSS
 * and its peak, disk written, overlay growth, the guest's memory and its peak, its network in and
 * out), read as the build's part on the agent ended; the
 * phases are the build's phase line (queued, VM online cold or warm, agent connected, started).
 */
public final class QemuVmUsageAction implements Action {
    private final String vmId;
    private final String agent;
    private final String usage;
    private final String phases;

    QemuVmUsageAction(String vmId, String agent, String usage, @CheckForNull String phases) {
        this.vmId = vmId;
        this.agent = agent;
        this.usage = usage;
        this.phases = phases;
    }

    /**
     * The action for the build that just ended its part on {@code computer}: the run itself (a
     * freestyle build) or the pipeline run whose {@code node} block it was; null when there is no
     * build or no VM to read.
     */
    @CheckForNull
    static QemuVmUsageAction read(QemuComputer computer, @CheckForNull Queue.Executable executable) {
        Run<?, ?> run = runOf(executable);
        QemuAgent node = computer.getNode();
        Vm vm = node == null ? null : node.liveVm();
        VmUsage u = vm == null ? null : vm.usage();
        if (run == null || u == null) {
            return null;
        }
        return new QemuVmUsageAction(vm.id(), computer.getName(), u.summary(), computer.lastPhases());
    }

    @CheckForNull
    static Run<?, ?> runOf(@CheckForNull Queue.Executable executable) {
        if (executable instanceof Run<?, ?> run) {
            return run;
        }
        return executable != null && executable.getParentExecutable() instanceof Run<?, ?> parent ? parent : null;
    }

    /** The line for a log: which VM, what it used. */
    String line() {
        return "VM " + vmId + " (" + agent + ") used: " + usage;
    }

    public String getVmId() {
        return vmId;
    }

    public String getAgent() {
        return agent;
    }

    public String getUsage() {
        return usage;
    }

    @CheckForNull
    public String getPhases() {
        return phases;
    }

    @Override
    public String getIconFileName() {
        return null;
    }

    @Override
    public String getDisplayName() {
        return "QEMU VM " + vmId;
    }

    @Override
    public String getUrlName() {
        return null;
    }
}
