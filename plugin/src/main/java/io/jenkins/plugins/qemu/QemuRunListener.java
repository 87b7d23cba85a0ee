package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Extension;
import hudson.model.Executor;
import hudson.model.Run;
import hudson.model.TaskListener;
import hudson.model.listeners.RunListener;

/**
 * Puts the phase line (queued, VM online, agent connected, build started; see
 * {@link io.jenkins.plugins.qemu.engine.cloud.BuildPhases}) at the top of the log of a build that
 * runs on a QEMU agent, where its author looks first. A pipeline's run executes on the
 * controller and only its {@code node} block on the agent; {@link QemuStepListener} writes its line.
 * At the end the build's log and page get what its VM used ({@link QemuVmUsageAction}), and where
 * its VM is if it is kept after a failure ({@link KeptVms}).
 */
@Extension
public final class QemuRunListener extends RunListener<Run<?, ?>> {
    @Override
    public void onStarted(@NonNull Run<?, ?> run, @NonNull TaskListener listener) {
        Executor executor = run.getExecutor();
        if (executor != null && executor.getOwner() instanceof QemuComputer qemu) {
            String line = qemu.lastPhases();
            if (line != null) {
                listener.getLogger().println(line);
            }
        }
    }

    /** The build's last log line and its page say what its VM used (the VM goes right after). */
    @Override
    public void onCompleted(@NonNull Run<?, ?> run, @NonNull TaskListener listener) {
        Executor executor = run.getExecutor();
        if (executor != null && executor.getOwner() instanceof QemuComputer qemu) {
            QemuVmUsageAction usage = QemuVmUsageAction.read(qemu, executor.getCurrentExecutable());
            if (usage != null) {
                run.addAction(usage);
                listener.getLogger().println(usage.line());
            }
        }
        KeptVms.runCompleted(run, listener);
    }
}
