package io.jenkins.plugins.qemu.engine.cloud;

import java.io.Serializable;
import java.time.Duration;

/**
 * When an agent's VM should go. One-shot (idle minutes 0, the default) ends the VM with its one
 * build; otherwise the VM is kept until it has been idle that long. Either way a VM that died,
 * an agent that stays offline after its launch failed, and a one-shot agent that never got a
 * build are removed rather than left behind. Jenkins-free, so every rule is tested here.
 */
public record RetentionPolicy(int idleMinutes) implements Serializable {
    /** How long a one-shot agent may wait for the build it was made for before it is given up. */
    public static final Duration UNUSED_ONE_SHOT_GRACE = Duration.ofMinutes(10);
    /** How long an agent may stay offline (launch failed, connection lost) before it is removed. */
    public static final Duration OFFLINE_GRACE = Duration.ofMinutes(3);

    public RetentionPolicy {
        CloudValidation.idleMinutes("idleMinutes", idleMinutes);
    }

    public static RetentionPolicy of(int idleMinutes) {
        return new RetentionPolicy(idleMinutes);
    }

    public boolean oneShot() {
        return idleMinutes == 0;
    }

    /** What the periodic check should do with an agent. */
    public enum Decision {
        KEEP(null),
        TERMINATE_VM_GONE("its VM is gone"),
        TERMINATE_OFFLINE("it stayed offline for more than " + OFFLINE_GRACE.toMinutes() + " minutes"),
        TERMINATE_UNUSED("it is a one-shot agent that got no build within " + UNUSED_ONE_SHOT_GRACE.toMinutes() + " minutes"),
        TERMINATE_IDLE("it was idle for longer than its idle time");

        private final String reason;

        Decision(String reason) {
            this.reason = reason;
        }

        public boolean terminates() {
            return this != KEEP;
        }

        /** Why the agent is removed, for the log; null for {@link #KEEP}. */
        public String reason() {
            return reason;
        }
    }

    /**
     * What Jenkins sees of one agent at a check.
     *
     * @param vmAlive    the engine still runs its VM
     * @param connecting a launch is in progress (never interrupt it)
     * @param online     the agent channel is up
     * @param idle       no executor is busy
     * @param idleFor    how long all executors have been idle
     * @param offlineFor how long the agent has been offline without a launch in progress (zero when online)
     */
    public record Observation(boolean vmAlive, boolean connecting, boolean online, boolean idle, Duration idleFor,
            Duration offlineFor) {}

    public Decision decide(Observation o) {
        if (!o.vmAlive()) {
            return Decision.TERMINATE_VM_GONE;
        }
        if (o.connecting()) {
            return Decision.KEEP;
        }
        if (!o.online()) {
            return o.offlineFor().compareTo(OFFLINE_GRACE) > 0 ? Decision.TERMINATE_OFFLINE : Decision.KEEP;
        }
        if (!o.idle()) {
            return Decision.KEEP;
        }
        if (oneShot()) {
            return o.idleFor().compareTo(UNUSED_ONE_SHOT_GRACE) > 0 ? Decision.TERMINATE_UNUSED : Decision.KEEP;
        }
        return o.idleFor().compareTo(Duration.ofMinutes(idleMinutes)) >= 0 ? Decision.TERMINATE_IDLE : Decision.KEEP;
    }

    /**
     * Whether a finished task uses up a one-shot agent. Flyweight tasks (the part of a pipeline
     * that runs on the controller) and tasks that will continue (a {@code node {}} block that
     * resumes after a restart) do not: terminating then would cut the build off its workspace.
     */
    public boolean endsWithTask(boolean flyweight, boolean willContinue) {
        return oneShot() && !flyweight && !willContinue;
    }

    @Override
    public String toString() {
        return oneShot() ? "one-shot" : "idle " + idleMinutes + "m";
    }
}
