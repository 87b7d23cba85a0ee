package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Extension;
import hudson.model.Computer;
import hudson.model.Descriptor;
import hudson.model.Executor;
import hudson.model.ExecutorListener;
import hudson.model.OneOffExecutor;
import hudson.model.Queue;
import hudson.slaves.AbstractCloudComputer;
import hudson.slaves.CloudRetentionStrategy;
import hudson.slaves.RetentionStrategy;
import io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy;
import java.io.IOException;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.jenkinsci.plugins.durabletask.executors.ContinuableExecutable;

/**
 * Ends a QEMU agent as its template says: one-shot agents as soon as their one build (or
 * pipeline {@code node {}} block) is over, with durable-task's {@code OnceRetentionStrategy}
 * semantics (flyweight tasks and blocks that will resume do not count); idle agents after their
 * idle time. Unlike {@code OnceRetentionStrategy} it never relaunches an offline agent: a VM that
 * died, or an agent whose launch failed, is terminated, so no agent stays offline forever. The
 * rules live in the engine's {@link RetentionPolicy}.
 */
public class QemuRetentionStrategy extends CloudRetentionStrategy implements ExecutorListener {
    private static final Logger LOGGER = Logger.getLogger(QemuRetentionStrategy.class.getName());

    private final int idleMinutes;
    private transient boolean terminating;

    public QemuRetentionStrategy(int idleMinutes) {
        super(idleMinutes);
        this.idleMinutes = idleMinutes;
    }

    public int getIdleMinutes() {
        return idleMinutes;
    }

    RetentionPolicy policy() {
        return RetentionPolicy.of(idleMinutes);
    }

    @Override
    public long check(@NonNull AbstractCloudComputer c) {
        if (c instanceof QemuComputer qemu) {
            RetentionPolicy.Decision decision = policy().decide(qemu.observe());
            if (decision.terminates()) {
                terminate(qemu, decision.reason());
            }
        }
        return 1;
    }

    @Override
    public void taskCompleted(Executor executor, Queue.Task task, long durationMS) {
        taskDone(executor);
    }

    @Override
    public void taskCompletedWithProblems(Executor executor, Queue.Task task, long durationMS, Throwable problems) {
        taskDone(executor);
    }

    private void taskDone(Executor executor) {
        if (!(executor.getOwner() instanceof QemuComputer qemu)) {
            return;
        }
        Queue.Executable exec = executor.getCurrentExecutable();
        boolean flyweight = executor instanceof OneOffExecutor;
        boolean willContinue = exec instanceof ContinuableExecutable continuable && continuable.willContinue();
        if (policy().endsWithTask(flyweight, willContinue)) {
            terminate(qemu, "its one build is over");
        }
    }

    /**
     * Stops new work at once and terminates off the calling thread: the executor thread
     * finishing the build and the queue lock holder calling {@link #check} must not block on the
     * VM shutdown.
     */
    private void terminate(QemuComputer computer, String reason) {
        computer.setAcceptingTasks(false);
        synchronized (this) {
            if (terminating) {
                return;
            }
            terminating = true;
        }
        Computer.threadPoolForRemoting.submit(() -> {
            QemuAgent agent = computer.getNode();
            if (agent == null) {
                return;
            }
            try {
                LOGGER.fine(() -> "Terminating " + agent.getNodeName() + ": " + reason);
                computer.getListener().getLogger().println("Terminating this agent: " + reason);
                agent.terminate();
            } catch (InterruptedException | IOException | RuntimeException e) {
                LOGGER.log(Level.WARNING, "Failed to terminate " + agent.getNodeName(), e);
                synchronized (QemuRetentionStrategy.this) {
                    terminating = false;
                }
            }
        });
    }

    /** Hidden from every retention list (see {@link HiddenDescriptors}); templates choose retention instead. */
    @Extension
    public static final class DescriptorImpl extends Descriptor<RetentionStrategy<?>> {
        @NonNull
        @Override
        public String getDisplayName() {
            return "QEMU agent retention";
        }
    }
}
