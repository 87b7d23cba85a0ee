package io.jenkins.plugins.qemu.engine.cloud;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Decides which host each VM of a cloud runs on. A VM goes to the usable host with the most free
 * capacity (the smaller of its free share of vCPUs and of memory) that holds the VM's image and has
 * room in its own {@link HostBudget}; the cloud's {@link CapacityLedger} (cloud and template caps)
 * is booked in the same step, under one lock, so concurrent requests never overshoot either. A
 * host is skipped, with the reason kept for the admin, while it is offline, has not been probed,
 * cannot run VMs (no QEMU, no state directory), lacks the image, or is cooling down after
 * {@code failuresBeforeCoolDown} boots failed on it in a row. A lost host's VMs are given back to
 * the cloud at once: they are not counted, and the host offers nothing until it is probed again.
 */
public final class HostPlacement {

    /**
     * Where a VM goes, or why it goes nowhere: {@code host} is null when it was refused, and then
     * {@code refusal} says why in one line and {@code hostReasons} why each host was skipped.
     */
    public record Decision(String vmId, String host, String refusal, Map<String, String> hostReasons) {
        public Decision {
            hostReasons = Map.copyOf(hostReasons);
        }

        public boolean placed() {
            return host != null;
        }
    }

    /** One host as the admin sees it: its budget, what its VMs take, and why it takes none (null when it may). */
    public record HostView(String host, HostBudget budget, int vms, int cpusUsed, long memoryUsedMiB, String skipped) {}

    private static final class HostState {
        HostBudget budget;
        boolean retired;
        HostFacts facts;
        String offline = "not probed yet";
        int failures;
        String lastFailure;
        Instant coolUntil;
        final Map<String, CapacityLedger.Claim> vms = new LinkedHashMap<>();

        int cpusUsed() {
            return vms.values().stream().mapToInt(CapacityLedger.Claim::cpus).sum();
        }

        long memoryUsed() {
            return vms.values().stream().mapToLong(CapacityLedger.Claim::memoryMiB).sum();
        }
    }

    private final Object lock = new Object();
    private final CapacityLedger cloud;
    private final int failuresBeforeCoolDown;
    private final Duration coolDown;
    private final Clock clock;
    private final Map<String, HostState> hosts = new LinkedHashMap<>();
    private final Map<String, String> hostOfVm = new HashMap<>();

    public HostPlacement(CapacityLedger cloud, int failuresBeforeCoolDown, Duration coolDown, Clock clock) {
        this.cloud = Objects.requireNonNull(cloud, "cloud");
        if (failuresBeforeCoolDown < 1) {
            throw new IllegalArgumentException("failuresBeforeCoolDown must be at least 1: " + failuresBeforeCoolDown);
        }
        if (coolDown == null || coolDown.isNegative() || coolDown.isZero()) {
            throw new IllegalArgumentException("coolDown must be positive: " + coolDown);
        }
        this.failuresBeforeCoolDown = failuresBeforeCoolDown;
        this.coolDown = coolDown;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * The hosts the cloud uses now, with their budgets. A host left out takes no new VMs; its
     * running VMs stay counted until they are released, then it is forgotten.
     */
    public void configure(List<HostBudget> budgets) {
        synchronized (lock) {
            for (HostState s : hosts.values()) {
                s.retired = true;
            }
            for (HostBudget b : budgets) {
                HostState s = hosts.computeIfAbsent(b.host(), h -> new HostState());
                s.budget = b;
                s.retired = false;
            }
            hosts.values().removeIf(s -> s.retired && s.vms.isEmpty());
        }
    }

    /** The host answered a probe: it is online with these facts (it may still be unusable). */
    public void hostUp(String host, HostFacts facts) {
        synchronized (lock) {
            HostState s = hosts.get(host);
            if (s != null) {
                s.facts = Objects.requireNonNull(facts, "facts");
                s.offline = null;
            }
        }
    }

    /**
     * The host is gone (its agent disconnected, a call to it failed). Its VMs are released from
     * the cloud's ledger and from the host at once, and their ids returned, so the caller removes
     * their agents; the host is offered again only after it answers a probe.
     */
    public List<String> hostLost(String host, String why) {
        synchronized (lock) {
            HostState s = hosts.get(host);
            if (s == null) {
                return List.of();
            }
            s.offline = "offline: " + why;
            s.facts = null;
            List<String> lost = new ArrayList<>(s.vms.keySet());
            for (String vmId : lost) {
                forgetLocked(vmId);
                cloud.release(vmId);
            }
            return lost;
        }
    }

    /**
     * Books the VM on the cloud's ledger and on the best host for it, or on neither. The caller
     * boots it there and then reports {@link #booted} or {@link #bootFailed}; {@link #release}
     * gives the room back when the VM is gone.
     */
    public Decision place(String vmId, CapacityLedger.Claim claim, String image) {
        return placeLocked(vmId, claim, image, null);
    }

    /**
     * Books the VM on the cloud's ledger and on {@code host} only, or on neither: for what must run
     * on one host, such as the build of that host's own warm snapshot. The same rules as
     * {@link #place}; the other hosts are not considered.
     */
    public Decision placeOn(String vmId, CapacityLedger.Claim claim, String image, String host) {
        return placeLocked(vmId, claim, image, Objects.requireNonNull(host, "host"));
    }

    private Decision placeLocked(String vmId, CapacityLedger.Claim claim, String image, String onlyHost) {
        synchronized (lock) {
            sweepLocked();
            String cloudRefusal = cloud.refusal(claim);
            if (cloudRefusal != null) {
                return new Decision(vmId, null, cloudRefusal, Map.of());
            }
            Map<String, String> reasons = new LinkedHashMap<>();
            String best = null;
            double bestFree = -1;
            for (Map.Entry<String, HostState> e : hosts.entrySet()) {
                if (onlyHost != null && !onlyHost.equals(e.getKey())) {
                    continue;
                }
                HostState s = e.getValue();
                String why = skipReasonLocked(s, claim, image);
                if (why != null) {
                    reasons.put(e.getKey(), why);
                    continue;
                }
                double free = freeShare(s);
                if (free > bestFree) {
                    best = e.getKey();
                    bestFree = free;
                }
            }
            if (best == null) {
                String none = onlyHost != null ? "host " + onlyHost + " is not one of the cloud's hosts" : "the cloud has no hosts";
                return new Decision(vmId, null, reasons.isEmpty() ? none : "no host can take it: " + join(reasons), reasons);
            }
            if (cloud.tryReserve(vmId, claim).isEmpty()) {
                return new Decision(vmId, null, String.valueOf(cloud.refusal(claim)), reasons);
            }
            hosts.get(best).vms.put(vmId, claim);
            hostOfVm.put(vmId, best);
            return new Decision(vmId, best, null, reasons);
        }
    }

    /** The VM booted: its host's streak of failed boots ends. */
    public void booted(String vmId) {
        synchronized (lock) {
            HostState s = hosts.get(hostOfVm.get(vmId));
            if (s != null) {
                s.failures = 0;
                s.lastFailure = null;
                s.coolUntil = null;
            }
        }
    }

    /**
     * The VM's boot failed: its room is given back, and its host, after
     * {@code failuresBeforeCoolDown} failures in a row, is skipped for the cool-down.
     */
    public void bootFailed(String vmId, String why) {
        synchronized (lock) {
            HostState s = hosts.get(hostOfVm.get(vmId));
            if (s != null) {
                s.failures++;
                s.lastFailure = why;
                if (s.failures >= failuresBeforeCoolDown) {
                    s.coolUntil = clock.instant().plus(coolDown);
                }
            }
            forgetLocked(vmId);
            cloud.release(vmId);
        }
    }

    /** The VM is gone: its room goes back to its host and the cloud. True only the first time. */
    public boolean release(String vmId) {
        synchronized (lock) {
            boolean known = forgetLocked(vmId);
            return cloud.release(vmId) || known;
        }
    }

    public Optional<String> hostOf(String vmId) {
        synchronized (lock) {
            return Optional.ofNullable(hostOfVm.get(vmId));
        }
    }

    /** Every host with what its VMs take and why it takes no VM of this size now (null when it would). */
    public List<HostView> hosts(CapacityLedger.Claim probe, String image) {
        synchronized (lock) {
            sweepLocked();
            List<HostView> views = new ArrayList<>();
            for (Map.Entry<String, HostState> e : hosts.entrySet()) {
                HostState s = e.getValue();
                views.add(new HostView(e.getKey(), s.budget, s.vms.size(), s.cpusUsed(), s.memoryUsed(), skipReasonLocked(s, probe, image)));
            }
            return views;
        }
    }

    private String skipReasonLocked(HostState s, CapacityLedger.Claim claim, String image) {
        if (s.retired) {
            return "no longer one of the cloud's hosts";
        }
        if (s.offline != null) {
            return s.offline;
        }
        if (s.facts.unusable() != null) {
            return "cannot run VMs: " + s.facts.unusable();
        }
        Instant now = clock.instant();
        if (s.coolUntil != null && now.isBefore(s.coolUntil)) {
            return s.failures + " boots failed in a row here (last: " + s.lastFailure + "); skipped for "
                    + Math.max(1, Duration.between(now, s.coolUntil).toSeconds()) + " s more";
        }
        if (image != null && !s.facts.images().contains(image)) {
            return "does not have the image '" + image + "'";
        }
        int cpus = s.budget.cpusGiven(s.facts);
        long memory = s.budget.memoryGiven(s.facts);
        if (claim.cpus() > cpus) {
            return "a VM with " + claim.cpus() + " CPUs can never fit its " + cpus + " CPUs";
        }
        if (claim.memoryMiB() > memory) {
            return "a VM with " + claim.memoryMiB() + "M memory can never fit its " + memory + "M";
        }
        if (s.budget.instanceCap() > 0 && s.vms.size() >= s.budget.instanceCap()) {
            return "its instance cap of " + s.budget.instanceCap() + " is reached";
        }
        if (s.cpusUsed() + claim.cpus() > cpus) {
            return s.cpusUsed() + " of its " + cpus + " CPUs are taken; " + claim.cpus() + " more do not fit";
        }
        if (s.memoryUsed() + claim.memoryMiB() > memory) {
            return s.memoryUsed() + "M of its " + memory + "M memory are taken; " + claim.memoryMiB() + "M more do not fit";
        }
        return null;
    }

    private static double freeShare(HostState s) {
        int cpus = s.budget.cpusGiven(s.facts);
        long memory = s.budget.memoryGiven(s.facts);
        double freeCpus = (cpus - s.cpusUsed()) / (double) cpus;
        double freeMemory = (memory - s.memoryUsed()) / (double) memory;
        return Math.min(freeCpus, freeMemory);
    }

    /** VMs whose cloud reservation was released elsewhere (the ledger is the truth) leave their host too. */
    private void sweepLocked() {
        for (String vmId : new ArrayList<>(hostOfVm.keySet())) {
            if (!cloud.holds(vmId)) {
                forgetLocked(vmId);
            }
        }
    }

    private boolean forgetLocked(String vmId) {
        String host = hostOfVm.remove(vmId);
        if (host == null) {
            return false;
        }
        HostState s = hosts.get(host);
        if (s != null) {
            s.vms.remove(vmId);
            if (s.retired && s.vms.isEmpty()) {
                hosts.remove(host);
            }
        }
        return true;
    }

    private static String join(Map<String, String> reasons) {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> e : reasons.entrySet()) {
            if (b.length() > 0) {
                b.append("; ");
            }
            b.append(e.getKey()).append(": ").append(e.getValue());
        }
        return b.toString();
    }
}
