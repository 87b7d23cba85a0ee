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
}
