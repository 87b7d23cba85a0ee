package io.jenkins.plugins.qemu.engine.cloud;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Counts every VM of one cloud from the moment it is planned until its agent is gone, against the
 * cloud's instance cap and host budget (vCPUs and memory all its VMs may take together). Counting
 * planned VMs, not only registered agents, is what keeps concurrent provisioning rounds from
 * overshooting the cap: the check and the booking happen under one lock. Each VM holds one
 * {@link Reservation}, released exactly once, whichever of boot failure, agent removal or the
 * stale sweep comes first.
 */
public final class CapacityLedger {

    /** The cloud's limits; 0 for {@code hostCpus} or {@code hostMemoryMiB} means "no budget". */
    public record Limits(int instanceCap, int hostCpus, long hostMemoryMiB) {
        public Limits {
            CloudValidation.instanceCap("instanceCap", instanceCap);
            CloudValidation.hostCpus("hostCpus", hostCpus);
            if (hostMemoryMiB < 0) {
                throw new InvalidInputException("hostMemory", hostMemoryMiB + "M", "must not be negative");
            }
        }
    }

    /** What the cloud's VMs take right now, planned ones included. */
    public record Usage(int instances, int cpus, long memoryMiB) {}

    private final Object lock = new Object();
    private final Clock clock;
    private final Map<String, Reservation> reservations = new LinkedHashMap<>();
    private Limits limits;
    private int cpusInUse;
    private long memoryInUse;

    public CapacityLedger(Limits limits) {
        this(limits, Clock.systemUTC());
    }

    public CapacityLedger(Limits limits, Clock clock) {
        this.limits = java.util.Objects.requireNonNull(limits, "limits");
        this.clock = clock;
    }

    /** What a VM is booked for: the template's agents, that template's warm-snapshot boot, or a Test-button trial. */
    public enum Purpose { AGENT, SNAPSHOT_BUILD, TRIAL }

    /**
     * One VM's demand: its size, the template it belongs to (its key, e.g. labels and image) and
     * that template's own cap (0 for none). Snapshot builds and trials are booked like agents, so
     * nothing the cloud boots escapes its cap or budget.
     */
    public record Claim(String template, int templateCap, int cpus, long memoryMiB, Purpose purpose) {
        public Claim {
            java.util.Objects.requireNonNull(template, "template");
            java.util.Objects.requireNonNull(purpose, "purpose");
            CloudValidation.templateInstanceCap("instanceCap", templateCap);
            if (cpus < 1 || memoryMiB < 1) {
                throw new IllegalArgumentException("a VM takes at least one CPU and some memory: " + cpus + ", " + memoryMiB);
            }
        }

        /** An agent VM of a template without a cap of its own. */
        public static Claim agent(int cpus, long memoryMiB) {
            return new Claim("", 0, cpus, memoryMiB, Purpose.AGENT);
        }
    }

    /** {@link #tryReserve(String, Claim)} for an agent of a template without a cap of its own. */
    public Optional<Reservation> tryReserve(String vmId, int cpus, long memoryMiB) {
        return tryReserve(vmId, Claim.agent(cpus, memoryMiB));
    }

    /**
     * Books room for one VM if the cloud's cap, the template's cap and the budget allow it now;
     * empty otherwise. A VM id can hold one reservation at a time.
     */
    public Optional<Reservation> tryReserve(String vmId, Claim claim) {
        synchronized (lock) {
            if (reservations.containsKey(vmId)) {
                throw new IllegalStateException("VM " + vmId + " already holds a reservation");
            }
            if (refusalLocked(claim) != null) {
                return Optional.empty();
            }
            Reservation r = new Reservation(vmId, claim, clock.instant());
            reservations.put(vmId, r);
            cpusInUse += claim.cpus();
            memoryInUse += claim.memoryMiB();
            return Optional.of(r);
        }
    }

    /** Why a VM of this size would not fit now, for logs and the UI; null when it would. */
    public String refusal(int cpus, long memoryMiB) {
        return refusal(Claim.agent(cpus, memoryMiB));
    }

    /** Why this claim would not fit now, for logs, the queue and the UI; null when it would. */
    public String refusal(Claim claim) {
        synchronized (lock) {
            return refusalLocked(claim);
        }
    }

    private String refusalLocked(Claim claim) {
        int cpus = claim.cpus();
        long memoryMiB = claim.memoryMiB();
        Limits l = limits;
        if (l.hostCpus() > 0 && cpus > l.hostCpus()) {
            return "a VM with " + cpus + " CPUs can never fit the host budget of " + l.hostCpus() + " CPUs";
        }
        if (l.hostMemoryMiB() > 0 && memoryMiB > l.hostMemoryMiB()) {
            return "a VM with " + memoryMiB + "M memory can never fit the host budget of " + l.hostMemoryMiB() + "M";
        }
        if (reservations.size() >= l.instanceCap()) {
            return "the instance cap of " + l.instanceCap() + " is reached";
        }
        if (claim.templateCap() > 0 && countLocked(claim.template()) >= claim.templateCap()) {
            return "the template's instance cap of " + claim.templateCap() + " is reached";
        }
        if (l.hostCpus() > 0 && cpusInUse + cpus > l.hostCpus()) {
            return cpusInUse + " of " + l.hostCpus() + " budgeted CPUs are taken; " + cpus + " more do not fit";
        }
        if (l.hostMemoryMiB() > 0 && memoryInUse + memoryMiB > l.hostMemoryMiB()) {
            return memoryInUse + "M of " + l.hostMemoryMiB() + "M budgeted memory are taken; " + memoryMiB + "M more do not fit";
        }
        return null;
    }

    private int countLocked(String template) {
        int n = 0;
        for (Reservation r : reservations.values()) {
            if (r.claim().template().equals(template)) {
                n++;
            }
        }
        return n;
    }

    /** How many VMs of this template (its {@link Claim#template()} key) are booked now. */
    public int count(String template) {
        synchronized (lock) {
            return countLocked(template);
        }
    }

    /** Releases the reservation of this VM; true only for the call that actually released it. */
    public boolean release(String vmId) {
        Reservation r;
        synchronized (lock) {
            r = reservations.get(vmId);
        }
        return r != null && r.release();
    }

    public boolean holds(String vmId) {
        synchronized (lock) {
            return reservations.containsKey(vmId);
        }
    }

    public Set<String> vmIds() {
        synchronized (lock) {
            return new LinkedHashSet<>(reservations.keySet());
        }
    }

    public Usage usage() {
        synchronized (lock) {
            return new Usage(reservations.size(), cpusInUse, memoryInUse);
        }
    }

    public Limits limits() {
        synchronized (lock) {
            return limits;
        }
    }

    /**
     * New limits apply to new reservations; existing VMs keep theirs (lowering the cap never
     * kills a running build, it only stops new VMs until usage is below it again).
     */
    public void setLimits(Limits newLimits) {
        synchronized (lock) {
            this.limits = java.util.Objects.requireNonNull(newLimits, "limits");
        }
    }

    /**
     * VMs booked longer than {@code age} ago that nobody claims any more (no agent, no boot in
     * progress): the sign of a provisioning result Jenkins never turned into an agent. The caller
     * releases them, and the reaper then destroys the VM as unwanted.
     */
    public List<String> unclaimedOlderThan(Duration age, Predicate<String> claimed) {
        Instant cutoff = clock.instant().minus(age);
        List<Reservation> candidates;
        synchronized (lock) {
            candidates = new ArrayList<>(reservations.values());
        }
        List<String> stale = new ArrayList<>();
        for (Reservation r : candidates) {
            if (r.reservedAt().isBefore(cutoff) && !claimed.test(r.vmId())) {
                stale.add(r.vmId());
            }
        }
        return stale;
    }

    /** Room booked for one VM. Releasing is idempotent and safe from any thread. */
    public final class Reservation implements AutoCloseable {
        private final String vmId;
        private final Claim claim;
        private final Instant reservedAt;
        private boolean released;

        private Reservation(String vmId, Claim claim, Instant reservedAt) {
            this.vmId = vmId;
            this.claim = claim;
            this.reservedAt = reservedAt;
        }

        public String vmId() { return vmId; }
        public Claim claim() { return claim; }
        public int cpus() { return claim.cpus(); }
        public long memoryMiB() { return claim.memoryMiB(); }
        public Instant reservedAt() { return reservedAt; }

        /** Gives the room back; true only the first time. */
        public boolean release() {
            synchronized (lock) {
                if (released) {
                    return false;
                }
                released = true;
                reservations.remove(vmId, this);
                cpusInUse -= claim.cpus();
                memoryInUse -= claim.memoryMiB();
                return true;
            }
        }

        public boolean isReleased() {
            synchronized (lock) {
                return released;
            }
        }

        @Override
        public void close() {
            release();
        }

        @Override
        public String toString() {
            return "Reservation[" + vmId + " " + claim.purpose() + " cpus=" + claim.cpus() + " memory=" + claim.memoryMiB() + "M]";
        }
    }
}
