package io.jenkins.plugins.qemu.engine.cloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class HostPlacementTest {
    private static final Set<String> DEBIAN = Set.of("debian-13");
    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-03T10:00:00Z"));

    private HostPlacement placement(CapacityLedger cloud, HostBudget... budgets) {
        HostPlacement p = new HostPlacement(cloud, 3, Duration.ofMinutes(5), clock);
        p.configure(List.of(budgets));
        return p;
    }

    private static CapacityLedger cloud(int cap) {
        return new CapacityLedger(new CapacityLedger.Limits(cap, 0, 0));
    }

    private static CapacityLedger.Claim vm(int cpus, long memoryMiB) {
        return CapacityLedger.Claim.agent(cpus, memoryMiB);
    }

    @Test
    void eachVmGoesToTheHostWithTheMostFreeCapacity() {
        HostPlacement p = placement(cloud(10), new HostBudget("a", 0, 4, 8192), new HostBudget("b", 0, 8, 8192));
        p.hostUp("a", HostFacts.usable(DEBIAN, 2, 4096));
        p.hostUp("b", HostFacts.usable(DEBIAN, 2, 4096));
        // Both start empty (a tie goes to the first listed); then the one with the larger free share wins.
        assertEquals("a", p.place("vm1", vm(2, 1024), "debian-13").host());
        assertEquals("b", p.place("vm2", vm(2, 1024), "debian-13").host());
        assertEquals("b", p.place("vm3", vm(2, 1024), "debian-13").host()); // a 50 % free, b 75 % free
        assertEquals("a", p.place("vm4", vm(1, 1024), "debian-13").host()); // a 50 %, b 50 % (CPU): first listed
        assertEquals(Map.of("a", 2, "b", 2), countPerHost(p, "vm1", "vm2", "vm3", "vm4"));
    }

    @Test
    void memoryCountsAsMuchAsCpus() {
        HostPlacement p = placement(cloud(10), new HostBudget("a", 0, 8, 4096), new HostBudget("b", 0, 8, 16384));
        p.hostUp("a", HostFacts.usable(DEBIAN, 8, 4096));
        p.hostUp("b", HostFacts.usable(DEBIAN, 8, 16384));
        p.place("vm1", vm(1, 2048), "debian-13"); // goes to a (first listed), leaving it half free by memory
        assertEquals("b", p.place("vm2", vm(1, 2048), "debian-13").host());
        assertEquals("b", p.place("vm3", vm(1, 2048), "debian-13").host());
    }

    @Test
    void aBudgetOfZeroIsTheMachinesOwnSize() {
        HostPlacement p = placement(cloud(10), HostBudget.machine("a"));
        p.hostUp("a", HostFacts.usable(DEBIAN, 2, 2048));
        assertTrue(p.place("vm1", vm(2, 1024), "debian-13").placed());
        HostPlacement.Decision d = p.place("vm2", vm(1, 512), "debian-13");
        assertFalse(d.placed());
        assertEquals("2 of its 2 CPUs are taken; 1 more do not fit", d.hostReasons().get("a"));
        assertEquals("no host can take it: a: 2 of its 2 CPUs are taken; 1 more do not fit", d.refusal());
    }

    @Test
    void hostsThatCannotTakeTheVmAreSkippedWithTheReason() {
        HostPlacement p = placement(cloud(10), new HostBudget("fresh", 0, 4, 4096), new HostBudget("bare", 0, 4, 4096),
                new HostBudget("ubuntu-only", 0, 4, 4096), new HostBudget("small", 0, 1, 4096), new HostBudget("capped", 1, 4, 4096));
        p.hostUp("bare", HostFacts.unusable("qemu-system-x86_64 is not installed"));
        p.hostUp("ubuntu-only", HostFacts.usable(Set.of("ubuntu-24.04"), 4, 8192));
        p.hostUp("small", HostFacts.usable(DEBIAN, 4, 8192));
        p.hostUp("capped", HostFacts.usable(DEBIAN, 4, 8192));
        assertEquals("capped", p.place("vm1", vm(2, 1024), "debian-13").host());
        HostPlacement.Decision d = p.place("vm2", vm(2, 1024), "debian-13");
        assertFalse(d.placed());
        assertEquals("not probed yet", d.hostReasons().get("fresh"));
        assertEquals("cannot run VMs: qemu-system-x86_64 is not installed", d.hostReasons().get("bare"));
        assertEquals("does not have the image 'debian-13'", d.hostReasons().get("ubuntu-only"));
        assertEquals("a VM with 2 CPUs can never fit its 1 CPUs", d.hostReasons().get("small"));
        assertEquals("its instance cap of 1 is reached", d.hostReasons().get("capped"));
        assertEquals(0, countPerHost(p, "vm2").size());
        assertEquals(1, p.hosts(vm(2, 1024), "debian-13").get(4).vms());
    }

    @Test
    void theCloudsCapsComeFirstAndAreBookedWithTheHost() {
        CapacityLedger ledger = cloud(2);
        HostPlacement p = placement(ledger, HostBudget.machine("a"));
        p.hostUp("a", HostFacts.usable(DEBIAN, 16, 65536));
        CapacityLedger.Claim capped = new CapacityLedger.Claim("tpl", 1, 1, 512, CapacityLedger.Purpose.AGENT);
        assertTrue(p.place("vm1", capped, "debian-13").placed());
        assertTrue(ledger.holds("vm1"));
        assertEquals("the template's instance cap of 1 is reached", p.place("vm2", capped, "debian-13").refusal());
        assertTrue(p.place("vm3", vm(1, 512), "debian-13").placed());
        assertEquals("the instance cap of 2 is reached", p.place("vm4", vm(1, 512), "debian-13").refusal());
        // A reservation released on the ledger directly (the agent went) frees the host too.
        ledger.release("vm1");
        assertEquals(1, p.hosts(vm(1, 512), "debian-13").get(0).vms());
        assertTrue(p.release("vm3"));
        assertFalse(p.release("vm3"));
        assertEquals(0, ledger.usage().instances());
    }

    @Test
    void aHostWhoseBootsKeepFailingCoolsDownAndABootEndsTheStreak() {
        HostPlacement p = placement(cloud(10), HostBudget.machine("flaky"), HostBudget.machine("good"));
        p.hostUp("flaky", HostFacts.usable(DEBIAN, 8, 16384));
        p.hostUp("good", HostFacts.usable(DEBIAN, 2, 4096));
        for (int i = 1; i <= 3; i++) {
            HostPlacement.Decision d = p.place("f" + i, vm(1, 512), "debian-13");
            assertEquals("flaky", d.host(), "failure " + i + " is still placed on the emptier host");
            p.bootFailed(d.vmId(), "guest kernel panic");
        }
        HostPlacement.Decision skipped = p.place("vm", vm(1, 512), "debian-13");
        assertEquals("good", skipped.host());
        assertEquals("3 boots failed in a row here (last: guest kernel panic); skipped for 300 s more", skipped.hostReasons().get("flaky"));
        clock.advance(Duration.ofMinutes(5));
        HostPlacement.Decision again = p.place("f4", vm(1, 512), "debian-13");
        assertEquals("flaky", again.host());
        p.booted("f4");
        p.bootFailed(p.place("f5", vm(1, 512), "debian-13").vmId(), "timeout");
        assertNull(p.hosts(vm(1, 512), "debian-13").get(0).skipped(), "one failure after a boot does not cool the host down");
    }

    @Test
    void aLostHostsVmsAreGivenBackAndItOffersNothingUntilItAnswersAgain() {
        CapacityLedger ledger = cloud(3);
        HostPlacement p = placement(ledger, HostBudget.machine("a"), HostBudget.machine("b"));
        p.hostUp("a", HostFacts.usable(DEBIAN, 4, 4096));
        p.hostUp("b", HostFacts.usable(DEBIAN, 4, 4096));
        p.place("vm1", vm(1, 512), "debian-13");
        p.place("vm2", vm(1, 512), "debian-13");
        p.place("vm3", vm(1, 512), "debian-13");
        assertEquals("the instance cap of 3 is reached", p.place("x", vm(1, 512), "debian-13").refusal());
        String lostHost = p.hostOf("vm2").orElseThrow();
        List<String> lost = p.hostLost(lostHost, "agent disconnected");
        assertFalse(lost.isEmpty());
        assertEquals(3 - lost.size(), ledger.usage().instances(), "the lost host's VMs no longer count against the cloud's cap");
        HostPlacement.Decision d = p.place("vm4", vm(1, 512), "debian-13");
        assertEquals("offline: agent disconnected", d.hostReasons().get(lostHost));
        assertEquals("b", lostHost);
        assertEquals("a", d.host());
        p.hostUp(lostHost, HostFacts.usable(DEBIAN, 4, 4096));
        assertEquals("the instance cap of 3 is reached", p.place("vm5", vm(1, 512), "debian-13").refusal());
        p.release("vm4");
        assertEquals("b", p.place("vm5", vm(1, 512), "debian-13").host(), "the emptiest host again, once it answered");
    }

    @Test
    void aHostLeftOutOfTheConfigurationTakesNothingNewAndIsForgottenOnceEmpty() {
        HostPlacement p = placement(cloud(10), HostBudget.machine("a"), HostBudget.machine("b"));
        p.hostUp("a", HostFacts.usable(DEBIAN, 2, 4096));
        p.hostUp("b", HostFacts.usable(DEBIAN, 1, 4096));
        assertEquals("a", p.place("vm1", vm(1, 512), "debian-13").host());
        p.configure(List.of(HostBudget.machine("b")));
        HostPlacement.Decision d = p.place("vm2", vm(1, 512), "debian-13");
        assertEquals("b", d.host());
        assertEquals("no longer one of the cloud's hosts", d.hostReasons().get("a"));
        p.release("vm1");
        assertEquals(List.of("b"), p.hosts(vm(1, 512), "debian-13").stream().map(HostPlacement.HostView::host).toList());
    }

    @Test
    void badBudgetsNameTheirField() {
        assertEquals("hostCpus", assertThrows(InvalidInputException.class, () -> new HostBudget("a", 0, -1, 0)).field());
        assertEquals("hostMemory", assertThrows(InvalidInputException.class, () -> new HostBudget("a", 0, 0, -5)).field());
        assertEquals("instanceCap", assertThrows(InvalidInputException.class, () -> new HostBudget("a", -1, 0, 0)).field());
        assertEquals("host", assertThrows(InvalidInputException.class, () -> new HostBudget(" ", 0, 0, 0)).field());
    }

    /**
     * Many threads place and release VMs of random sizes at once; after every placement each
     * thread checks what it can see, and every host's and the cloud's counts are also kept
     * independently of the placement: none may ever go over its budget.
     */
    @Test
    void concurrentRequestsNeverOvershootAnyCapOrBudget() throws Exception {
        CapacityLedger ledger = new CapacityLedger(new CapacityLedger.Limits(7, 0, 0));
        HostPlacement p = placement(ledger, new HostBudget("a", 2, 4, 4096), new HostBudget("b", 0, 3, 3072), new HostBudget("c", 0, 2, 8192));
        for (String h : List.of("a", "b", "c")) {
            p.hostUp(h, HostFacts.usable(DEBIAN, 4, 8192));
        }
        Map<String, Integer> cpuBudget = Map.of("a", 4, "b", 3, "c", 2);
        Map<String, Long> memoryBudget = Map.of("a", 4096L, "b", 3072L, "c", 8192L);
        Map<String, AtomicInteger> cpus = new ConcurrentHashMap<>();
        Map<String, AtomicInteger> memory = new ConcurrentHashMap<>();
        Map<String, AtomicInteger> count = new ConcurrentHashMap<>();
        AtomicInteger cloudCount = new AtomicInteger();
        AtomicInteger placed = new AtomicInteger();
        List<String> violations = java.util.Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(12);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < 12; t++) {
            int thread = t;
            done.add(pool.submit(() -> {
                start.await();
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                for (int i = 0; i < 300; i++) {
                    String id = "t" + thread + "-" + i;
                    CapacityLedger.Claim c = vm(1 + rnd.nextInt(2), 512L * (1 + rnd.nextInt(3)));
                    HostPlacement.Decision d = p.place(id, c, "debian-13");
                    if (!d.placed()) {
                        continue;
                    }
                    placed.incrementAndGet();
                    String h = d.host();
                    int n = count.computeIfAbsent(h, k -> new AtomicInteger()).incrementAndGet();
                    int cp = cpus.computeIfAbsent(h, k -> new AtomicInteger()).addAndGet(c.cpus());
                    int mem = memory.computeIfAbsent(h, k -> new AtomicInteger()).addAndGet((int) c.memoryMiB());
                    int all = cloudCount.incrementAndGet();
                    if (cp > cpuBudget.get(h) || mem > memoryBudget.get(h) || ("a".equals(h) && n > 2) || all > 7) {
                        violations.add(h + ": " + n + " VMs, " + cp + " CPUs, " + mem + "M, cloud " + all);
                    }
                    java.util.concurrent.locks.LockSupport.parkNanos(rnd.nextInt(300_000)); // held a while, so VMs overlap
                    // Counts come down before the room is given back, so they never lag behind the placement.
                    cloudCount.decrementAndGet();
                    count.get(h).decrementAndGet();
                    cpus.get(h).addAndGet(-c.cpus());
                    memory.get(h).addAndGet((int) -c.memoryMiB());
                    if (rnd.nextBoolean()) {
                        p.release(id);
                    } else {
                        ledger.release(id); // the agent went; the host learns it at the next placement
                    }
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> f : done) {
            f.get(60, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertEquals(List.of(), violations);
        assertTrue(placed.get() > 100, "enough placements to mean something: " + placed.get());
        assertEquals(0, ledger.usage().instances());
        for (HostPlacement.HostView v : p.hosts(vm(1, 512), "debian-13")) {
            assertEquals(0, v.vms(), v.toString());
        }
    }

    @Test
    void placeOnBooksTheNamedHostOnlyAndSaysWhyItCannot() {
        HostPlacement p = placement(cloud(3), new HostBudget("a", 0, 4, 8192), new HostBudget("b", 1, 8, 8192));
        p.hostUp("a", HostFacts.usable(DEBIAN, 2, 4096));
        p.hostUp("b", HostFacts.usable(DEBIAN, 2, 4096));
        CapacityLedger.Claim snapshot = new CapacityLedger.Claim("t", 0, 2, 1024, CapacityLedger.Purpose.SNAPSHOT_BUILD);
        // b has the most free room, but the build is for b's neighbour a: it goes there and nowhere else.
        HostPlacement.Decision onA = p.placeOn("snap-a", snapshot, "debian-13", "a");
        assertEquals("a", onA.host());
        assertEquals(Map.of("a", 1), countPerHost(p, "snap-a"));
        assertEquals("b", p.placeOn("snap-b", snapshot, "debian-13", "b").host());
        // b's cap of 1 is taken: placeOn b refuses, naming b's reason, and does not fall back to a.
        HostPlacement.Decision refused = p.placeOn("snap-b2", snapshot, "debian-13", "b");
        assertFalse(refused.placed());
        assertEquals("no host can take it: b: its instance cap of 1 is reached", refused.refusal());
        assertEquals(Map.of(), countPerHost(p, "snap-b2"));
        assertEquals("no host can take it: a: does not have the image 'ubuntu-24.04'",
                p.placeOn("snap-x", snapshot, "ubuntu-24.04", "a").refusal());
        assertEquals("host c is not one of the cloud's hosts", p.placeOn("snap-c", snapshot, "debian-13", "c").refusal());
        // The cloud's cap counts these builds like any VM: 2 of 3 taken, and a release gives the room back.
        assertEquals("a", p.place("vm1", vm(1, 512), "debian-13").host());
        assertFalse(p.place("vm2", vm(1, 512), "debian-13").placed());
        assertTrue(p.release("snap-a"));
        assertEquals("a", p.place("vm2", vm(1, 512), "debian-13").host());
    }

    private static Map<String, Integer> countPerHost(HostPlacement p, String... vmIds) {
        Map<String, Integer> n = new java.util.TreeMap<>();
        for (String id : vmIds) {
            p.hostOf(id).ifPresent(h -> n.merge(h, 1, Integer::sum));
        }
        return n;
    }
}
