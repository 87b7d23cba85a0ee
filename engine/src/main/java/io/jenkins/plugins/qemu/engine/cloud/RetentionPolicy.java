package io.jenkins.plugins.qemu.engine.cloud;

import java.io.Serializable;
import java.time.Duration;
import java.util.Objects;

/**
 * When an agent's VM should go, and when its agent should be reconnected instead. One-shot (idle
 * minutes 0, the default) ends the VM once its build is over, and only when no other executor of it
 * still runs one; otherwise the VM is kept until it has been idle that long. A running build is never
 * ended by this policy, whatever marks an admin or a node monitor put on the agent. A lost agent
 * channel is reconnected while its VM lives, a bounded number of times; a launch that hangs is given
 * up after the launch timeout. With {@code keepFailed} set, a one-shot agent whose build failed is
 * kept that long for a person to look into its VM (counted against the caps all the while), then
 * ended; for a pipeline, whose result is known only when it ends, the agent waits for the result
 * at most that long. Jenkins-free, so every rule is tested here as a table.
 */
public record RetentionPolicy(int idleMinutes, Duration launchTimeout, Duration keepFailed) implements Serializable {
    /** How long a one-shot agent may wait for the build it was made for before it is given up. */
    public static final Duration UNUSED_ONE_SHOT_GRACE = Duration.ofMinutes(10);
    /** How long an idle agent an admin or a monitor marked offline is kept, so the mark can be undone. */
    public static final Duration MARKED_OFFLINE_GRACE = Duration.ofMinutes(3);
    /** Agent launches that may fail in a row (the agent JVM died, SSH refused) before the VM is given up. */
    public static final int MAX_FAILED_LAUNCHES = 2;
    /** A launch (SSH login, agent jar, JVM start) that takes longer than this is stuck. */
    public static final Duration DEFAULT_LAUNCH_TIMEOUT = Duration.ofMinutes(5);

    public RetentionPolicy {
        CloudValidation.idleMinutes("idleMinutes", idleMinutes);
        Objects.requireNonNull(keepFailed, "keepFailed");
        CloudValidation.keepFailedMinutes("keepFailedMinutes", (int) keepFailed.toMinutes());
        Objects.requireNonNull(launchTimeout, "launchTimeout");
        if (launchTimeout.isNegative() || launchTimeout.isZero()) {
            throw new IllegalArgumentException("launchTimeout must be positive: " + launchTimeout);
        }
    }

    /** A policy that keeps no failed build's VM. */
    public RetentionPolicy(int idleMinutes, Duration launchTimeout) {
        this(idleMinutes, launchTimeout, Duration.ZERO);
    }

    public static RetentionPolicy of(int idleMinutes) {
        return new RetentionPolicy(idleMinutes, DEFAULT_LAUNCH_TIMEOUT);
    }

    /** Whether a failed build's VM is kept for debugging. */
    public boolean keepsFailed() {
        return !keepFailed.isZero();
    }

    public boolean oneShot() {
        return idleMinutes == 0;
    }

    /** What the periodic check should do with an agent. */
    public enum Decision {
        KEEP(null),
        RECONNECT(null),
        TERMINATE_VM_GONE("its VM is gone"),
        TERMINATE_LAUNCH_STUCK("its launch did not finish within the launch timeout"),
        TERMINATE_UNREACHABLE(MAX_FAILED_LAUNCHES + " launches in a row failed; the VM is given up"),
        TERMINATE_DONE("its one build is over"),
        TERMINATE_UNUSED("it is a one-shot agent that got no build within " + UNUSED_ONE_SHOT_GRACE.toMinutes() + " minutes"),
        TERMINATE_MARKED_OFFLINE("it was marked offline and stayed idle for " + MARKED_OFFLINE_GRACE.toMinutes() + " minutes"),
        TERMINATE_IDLE("it was idle for longer than its idle time"),
        TERMINATE_KEPT_OVER("it was kept for debugging after its build failed, and its keep time is over"),
        TERMINATE_OUTCOME_LATE("its build did not end within the keep time, so it is not known to have failed");

        private final String reason;

        Decision(String reason) {
            this.reason = reason;
        }

        public boolean terminates() {
            return reason != null;
        }

        /** Why the agent is removed, for the log; null for {@link #KEEP} and {@link #RECONNECT}. */
        public String reason() {
            return reason;
        }
    }

    /** The state of the agent's remoting channel, as Jenkins knows it. */
    public enum Link {
        /** A launch is in progress. */
        CONNECTING,
        /** The channel is up (the agent may still be marked temporarily offline). */
        CONNECTED,
        /** No channel and no launch in progress: a launch failed, or the channel was lost. */
        DISCONNECTED
    }

    /**
     * What Jenkins sees of one agent at a check.
     *
     * @param vmAlive        the engine still runs its VM
     * @param link           the channel's state
     * @param inLinkStateFor how long the channel has been in that state
     * @param failedLaunches launches in a row that ended without a channel (reset when one succeeds)
     * @param markedOfflineFor how long an admin or a node monitor has had it marked offline; zero when not marked
     * @param busyExecutors  executors running a build (a flyweight part of a pipeline does not count)
     * @param usedUp         a one-shot agent whose build is over: it takes no new build
     * @param idleFor        how long all executors have been idle
     * @param pooled         a member of its template's warm pool that has taken no build yet: it waits on purpose
     * @param awaitingOutcomeFor how long a used-up agent has waited for its pipeline's result; zero when not waiting
     * @param keptFor        how long the agent has been kept after its build failed; zero when not kept
     */
    public record Observation(boolean vmAlive, Link link, Duration inLinkStateFor, int failedLaunches,
            Duration markedOfflineFor, int busyExecutors, boolean usedUp, Duration idleFor, boolean pooled,
            Duration awaitingOutcomeFor, Duration keptFor) {
        /** An agent that is not a warm-pool member. */
        public Observation(boolean vmAlive, Link link, Duration inLinkStateFor, int failedLaunches,
                Duration markedOfflineFor, int busyExecutors, boolean usedUp, Duration idleFor) {
            this(vmAlive, link, inLinkStateFor, failedLaunches, markedOfflineFor, busyExecutors, usedUp, idleFor, false);
        }

        /** An agent that is neither waiting for its build's outcome nor kept after a failure. */
        public Observation(boolean vmAlive, Link link, Duration inLinkStateFor, int failedLaunches,
                Duration markedOfflineFor, int busyExecutors, boolean usedUp, Duration idleFor, boolean pooled) {
            this(vmAlive, link, inLinkStateFor, failedLaunches, markedOfflineFor, busyExecutors, usedUp, idleFor, pooled,
                    Duration.ZERO, Duration.ZERO);
        }

        public Observation {
            Objects.requireNonNull(link, "link");
            Objects.requireNonNull(inLinkStateFor, "inLinkStateFor");
            Objects.requireNonNull(markedOfflineFor, "markedOfflineFor");
            Objects.requireNonNull(idleFor, "idleFor");
            Objects.requireNonNull(awaitingOutcomeFor, "awaitingOutcomeFor");
            Objects.requireNonNull(keptFor, "keptFor");
        }

        public boolean markedOffline() {
            return !markedOfflineFor.isZero();
        }
    }

    public Decision decide(Observation o) {
        if (!o.vmAlive()) {
            return Decision.TERMINATE_VM_GONE;
        }
        // Held on purpose, whatever the link or the marks: a person may be looking into it.
        if (!o.keptFor().isZero()) {
            return o.keptFor().compareTo(keepFailed) >= 0 ? Decision.TERMINATE_KEPT_OVER : Decision.KEEP;
        }
        if (!o.awaitingOutcomeFor().isZero()) {
            return o.awaitingOutcomeFor().compareTo(keepFailed) >= 0 ? Decision.TERMINATE_OUTCOME_LATE : Decision.KEEP;
        }
        switch (o.link()) {
            case CONNECTING:
                return o.inLinkStateFor().compareTo(launchTimeout) > 0 ? Decision.TERMINATE_LAUNCH_STUCK : Decision.KEEP;
            case DISCONNECTED:
                if (o.usedUp() && o.busyExecutors() == 0) {
                    return Decision.TERMINATE_DONE;
                }
                // The VM and its key are alive: a lost channel (a pipeline waits for it) or a crashed
                // agent JVM is worth another launch, but not forever.
                return o.failedLaunches() >= MAX_FAILED_LAUNCHES ? Decision.TERMINATE_UNREACHABLE : Decision.RECONNECT;
            case CONNECTED:
            default:
                return decideConnected(o);
        }
    }

    private Decision decideConnected(Observation o) {
        if (o.busyExecutors() > 0) {
            // Checked before any mark: "offline" from an admin or the disk-space monitor means
            // "take no new builds", never "kill the one that runs".
            return Decision.KEEP;
        }
        if (o.usedUp()) {
            return Decision.TERMINATE_DONE;
        }
        if (o.markedOffline() && o.markedOfflineFor().compareTo(MARKED_OFFLINE_GRACE) >= 0) {
            return Decision.TERMINATE_MARKED_OFFLINE;
        }
        if (o.pooled()) {
            // Waiting idle is a pool member's job; the pool itself ends stale or surplus members.
            return Decision.KEEP;
        }
        if (oneShot()) {
            return o.idleFor().compareTo(UNUSED_ONE_SHOT_GRACE) > 0 ? Decision.TERMINATE_UNUSED : Decision.KEEP;
        }
        return o.idleFor().compareTo(Duration.ofMinutes(idleMinutes)) >= 0 ? Decision.TERMINATE_IDLE : Decision.KEEP;
    }

    /** What to do when one executor of the agent finishes a task. */
    public enum TaskEnd {
        /** The agent stays as it is (idle retention, a flyweight task, a block that resumes). */
        NOTHING,
        /** Take no new build; end the VM when the builds still running on its other executors are over. */
        DRAIN,
        /** Take no new build and end the VM now. */
        TERMINATE,
        /** Take no new build; keep the VM until the build's result says whether it failed (a pipeline). */
        AWAIT_OUTCOME,
        /** Take no new build; keep the VM for debugging, for the keep time: its build failed. */
        KEEP_FAILED
    }

    /** What is known of the build's result when one of its tasks ends. */
    public enum Outcome {
        SUCCEEDED,
        FAILED,
        /** The build goes on (a pipeline after its {@code node} block): its result comes later. */
        NOT_YET_KNOWN
    }

    /**
     * What a finished task means for the agent. Flyweight tasks (the part of a pipeline that runs on
     * the controller) and tasks that will continue (a {@code node {}} block that resumes after a
     * restart) do not use up a one-shot agent: ending it then would cut the build off its workspace.
     * With several executors the VM is used up by the first build that ends but outlives the others.
     *
     * @param otherBusyExecutors executors other than the finishing one that still run a build
     */
    public TaskEnd onTaskEnd(boolean flyweight, boolean willContinue, int otherBusyExecutors) {
        return onTaskEnd(flyweight, willContinue, otherBusyExecutors, Outcome.SUCCEEDED);
    }

    /**
     * As above, for a policy that may keep a failed build's VM: a one-shot agent whose build
     * failed is kept, one whose build's result is not known yet waits for it. An agent shared by
     * several builds (other executors busy) is drained as before, never kept.
     */
    public TaskEnd onTaskEnd(boolean flyweight, boolean willContinue, int otherBusyExecutors, Outcome outcome) {
        if (!oneShot() || flyweight || willContinue) {
            return TaskEnd.NOTHING;
        }
        if (otherBusyExecutors > 0) {
            return TaskEnd.DRAIN;
        }
        if (keepsFailed() && outcome == Outcome.FAILED) {
            return TaskEnd.KEEP_FAILED;
        }
        return keepsFailed() && outcome == Outcome.NOT_YET_KNOWN ? TaskEnd.AWAIT_OUTCOME : TaskEnd.TERMINATE;
    }

    @Override
    public String toString() {
        return (oneShot() ? "one-shot" : "idle " + idleMinutes + "m") + (keepsFailed() ? ", failed kept " + keepFailed.toMinutes() + "m" : "");
    }
}
