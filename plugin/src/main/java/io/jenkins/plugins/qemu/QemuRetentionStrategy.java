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
import io.jenkins.plugins.qemu.engine.usage.ProvisioningMetrics;
import java.io.IOException;
import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.jenkinsci.plugins.durabletask.executors.ContinuableExecutable;

/**
 * Ends a QEMU agent as its template says: one-shot agents once their build (or pipeline
 * {@code node {}} block) is over and no other executor of theirs runs one, with durable-task's
 * {@code OnceRetentionStrategy} semantics (flyweight tasks and blocks that will resume do not
 * count); idle agents after their idle time. A running build is never ended by an offline mark;
 * a lost channel is reconnected while the VM lives (a bounded number of times), a launch that
 * hangs is given up after the template's launch timeout. The rules live in the engine's
 * {@link RetentionPolicy}; this class only observes the computer and carries out the decision.
 */
public class QemuRetentionStrategy extends CloudRetentionStrategy implements ExecutorListener {
    private static final Logger LOGGER = Logger.getLogger(QemuRetentionStrategy.class.getName());

    private final int idleMinutes;
    /** Seconds; 0 in agents saved before the setting existed, which get the default. */
    private final long launchTimeoutSeconds;
    /** 0 in agents saved before the setting existed: they keep no failed build's VM. */
    private final int keepFailedMinutes;
    private transient boolean terminating;

    public QemuRetentionStrategy(int idleMinutes, Duration launchTimeout, int keepFailedMinutes) {
        super(idleMinutes);
        this.idleMinutes = idleMinutes;
        this.launchTimeoutSeconds = launchTimeout.toSeconds();
        this.keepFailedMinutes = keepFailedMinutes;
    }

    public int getIdleMinutes() {
        return idleMinutes;
    }

    RetentionPolicy policy() {
        return new RetentionPolicy(idleMinutes, launchTimeoutSeconds > 0 ? Duration.ofSeconds(launchTimeoutSeconds)
                : RetentionPolicy.DEFAULT_LAUNCH_TIMEOUT, Duration.ofMinutes(keepFailedMinutes));
    }

    @Override
    public long check(@NonNull AbstractCloudComputer c) {
        if (c instanceof QemuComputer qemu) {
            apply(qemu, policy().decide(qemu.observe()));
        }
        return 1;
    }

    /** Carries out a decision; also called right after a failed launch, not only once a minute. */
    void apply(QemuComputer qemu, RetentionPolicy.Decision decision) {
        if (QemuEngines.get().shuttingDown()) {
            // The engines left the VMs running for the next start; a channel closing now is no reason to end an agent.
            return;
        }
        if (decision == RetentionPolicy.Decision.RECONNECT) {
            LOGGER.info(() -> qemu.getName() + ": its VM is alive but the agent is not connected; connecting again");
            qemu.connect(false);
        } else if (decision.terminates()) {
            QemuAgent agent = qemu.getNode();
            if (decision == RetentionPolicy.Decision.TERMINATE_UNREACHABLE && agent != null && agent.getTemplateKey() != null) {
                // An agent that does not start (a JVM option the guest's JDK refuses, no java) fails
                // on every VM of its template: the template backs off like one whose boots fail,
                // instead of booting a VM every few seconds.
                QemuEngines.get().backoff().failed(agent.getTemplateKey(), "the agent did not start on VM " + agent.getVmId()
                        + " (" + RetentionPolicy.MAX_FAILED_LAUNCHES + " launches failed; see its agent log)");
            }
            if ((decision == RetentionPolicy.Decision.TERMINATE_UNREACHABLE || decision == RetentionPolicy.Decision.TERMINATE_LAUNCH_STUCK)
                    && agent != null) {
                // Its VM came online (counted then) but it never became an agent.
                QemuMetrics.get().record(agent, m -> m.failed(agent.getFamily(), ProvisioningMetrics.Failure.AGENT));
            }
            terminate(qemu, decision.reason());
        }
    }

    /**
     * The phase line for the build the VM was booted for (see {@link QemuComputer#buildStarted}).
     * Accepted, not started: core calls a computer's retention strategy for the former only.
     */
    @Override
    public void taskAccepted(Executor executor, Queue.Task task) {
        if (executor.getOwner() instanceof QemuComputer qemu) {
            QemuAgent agent = qemu.getNode();
            if (agent != null && agent.leavePool()) {
                QemuWarmPool.get().refillSoon();
            }
            hudson.model.queue.WorkUnit unit = executor.getCurrentWorkUnit();
            java.time.Instant queued = unit == null ? null : java.time.Instant.ofEpochMilli(unit.context.item.getInQueueSince());
            qemu.buildStarted(task.getFullDisplayName(), queued);
        }
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
        if (!(exec instanceof hudson.model.Run)) {
            // A pipeline's node block: its run gets the VM's usage here, while the VM lives (a
            // freestyle build gets it, and the line in its log, in QemuRunListener#onCompleted).
            QemuVmUsageAction usage = QemuVmUsageAction.read(qemu, exec);
            if (usage != null) {
                QemuVmUsageAction.runOf(exec).addAction(usage);
                qemu.getListener().getLogger().println(usage.line());
            }
        }
        boolean flyweight = executor instanceof OneOffExecutor;
        boolean willContinue = exec instanceof ContinuableExecutable continuable && continuable.willContinue();
        hudson.model.Run<?, ?> run = exec == null ? null : QemuVmUsageAction.runOf(exec);
        switch (policy().onTaskEnd(flyweight, willContinue, qemu.busyExecutorsOtherThan(executor), KeptVms.outcome(exec, run))) {
            case KEEP_FAILED:
                qemu.keepFailed(run, policy().keepFailed());
                break;
            case AWAIT_OUTCOME:
                qemu.awaitOutcome(run);
                if (!run.isBuilding() && qemu.claimAwaited(run.getExternalizableId())) {
                    // The pipeline ended while this node block was still finishing (often its last
                    // step): its completion found no agent waiting, so its result is applied here.
                    // Its build log is closed by now; the agent's log gets the line.
                    KeptVms.settle(qemu, run, qemu.getListener());
                    break;
                }
                LOGGER.info(() -> qemu.getName() + ": its node block is over; it waits for the result of " + run.getFullDisplayName()
                        + " to know whether to keep its VM");
                break;
            case DRAIN:
                qemu.useUp();
                LOGGER.info(() -> qemu.getName() + ": its first build is over; it takes no new build and goes when the others end");
                break;
            case TERMINATE:
                qemu.useUp();
                terminate(qemu, RetentionPolicy.Decision.TERMINATE_DONE.reason());
                break;
            case NOTHING:
            default:
                break;
        }
    }

    /**
     * Stops new work at once and terminates off the calling thread: the executor thread
     * finishing the build and the queue lock holder calling {@link #check} must not block on the
     * VM shutdown.
     */
    void terminate(QemuComputer computer, String reason) {
        if (QemuEngines.get().shuttingDown()) {
            return; // see apply: the agent and its leased VM are for the controller's next start
        }
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
                LOGGER.info(() -> "Terminating " + agent.getNodeName() + ": " + reason);
                computer.getListener().getLogger().println("Terminating this agent: " + reason);
                agent.terminate(reason);
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
