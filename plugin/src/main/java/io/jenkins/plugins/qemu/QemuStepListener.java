package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Extension;
import hudson.model.Computer;
import hudson.model.TaskListener;
import java.io.IOException;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.jenkinsci.plugins.workflow.flow.StepListener;
import org.jenkinsci.plugins.workflow.steps.Step;
import org.jenkinsci.plugins.workflow.steps.StepContext;

/**
 * Puts the phase line into a pipeline's build log, where a {@link QemuRunListener} cannot: the
 * pipeline's run starts on the controller, and only its {@code node} block takes a QEMU agent. The
 * first step that starts on the agent (the {@code sh} the author wrote) gets the line, with its own
 * wait: queued, VM online, agent connected, node block started, first step. Optional: without
 * Pipeline installed this extension is not loaded.
 */
@Extension(optional = true)
public final class QemuStepListener implements StepListener {
    private static final Logger LOGGER = Logger.getLogger(QemuStepListener.class.getName());

    @Override
    public void notifyOfNewStep(@NonNull Step step, @NonNull StepContext context) {
        try {
            // Called for every step of every pipeline on the CPS thread: a context look-up and an
            // atomic swap, nothing that waits.
            if (!(context.get(Computer.class) instanceof QemuComputer qemu)) {
                return;
            }
            String line = qemu.firstStepStarted();
            TaskListener listener = line == null ? null : context.get(TaskListener.class);
            if (listener != null) {
                listener.getLogger().println(line);
            }
        } catch (IOException e) {
            LOGGER.log(Level.FINE, "no phase line for a step", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
