package io.jenkins.plugins.qemu.engine.cloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class CapacityLedgerTest {

    @Test
    void instanceCapCountsPlannedVms() {
        CapacityLedger ledger = new CapacityLedger(new CapacityLedger.Limits(2, 0, 0));
        assertTrue(ledger.tryReserve("qa-1", 2, 2048).isPresent());
        assertTrue(ledger.tryReserve("qa-2", 2, 2048).isPresent());
        assertFalse(ledger.tryReserve("qa-3", 2, 2048).isPresent());
        assertEquals("the instance cap of 2 is reached", ledger.refusal(2, 2048));
        assertEquals(new CapacityLedger.Usage(2, 4, 4096), ledger.usage());
    }

    /**
     * Point 5 of the plugin-robustness issue: a template's own cap, and warm-snapshot builds and
     * Test-button trials booked like agents, so neither escapes the cloud's cap or budget.
     */
    @Test
    void templateCapsAndEveryPurposeCount() {
        CapacityLedger ledger = new CapacityLedger(new CapacityLedger.Limits(4, 0, 0));
        CapacityLedger.Claim small = new CapacityLedger.Claim("c/small/debian-12", 1, 1, 512, CapacityLedger.Purpose.AGENT);
        CapacityLedger.Claim big = new CapacityLedger.Claim("c/big/debian-12", 0, 2, 2048, CapacityLedger.Purpose.AGENT);
        assertTrue(ledger.tryReserve("qa-1", small).isPresent());
        assertFalse(ledger.tryReserve("qa-2", small).isPresent());
        assertEquals("the template's instance cap of 1 is reached", ledger.refusal(small));
        assertNull(ledger.refusal(big), "other templates are not held back by it");
        CapacityLedger.Claim snapshot = new CapacityLedger.Claim("c/big/debian-12", 0, 2, 2048, CapacityLedger.Purpose.SNAPSHOT_BUILD);
        CapacityLedger.Claim trial = new CapacityLedger.Claim("c/big/debian-12", 0, 2, 2048, CapacityLedger.Purpose.TRIAL);
        assertTrue(ledger.tryReserve("qa-snap", snapshot).isPresent());
        assertTrue(ledger.tryReserve("qa-trial", trial).isPresent());
        assertTrue(ledger.tryReserve("qa-3", big).isPresent());
        assertEquals("the instance cap of 4 is reached", ledger.refusal(big), "the snapshot build and the trial took two of the four");
        assertEquals(3, ledger.count("c/big/debian-12"));
        ledger.release("qa-snap");
        assertEquals(2, ledger.count("c/big/debian-12"));
        assertThrows(InvalidInputException.class, () -> new CapacityLedger.Claim("t", -1, 1, 512, CapacityLedger.Purpose.AGENT));
    }

    @Test
    void hostBudgetLimitsCpusAndMemoryTogether() {
        CapacityLedger ledger = new CapacityLedger(new CapacityLedger.Limits(10, 4, 3072));
        assertTrue(ledger.tryReserve("qa-1", 2, 1024).isPresent());
        assertTrue(ledger.tryReserve("qa-2", 2, 1024).isPresent());
        // CPUs are used up although memory and the cap are not.
        assertFalse(ledger.tryReserve("qa-3", 1, 512).isPresent());
        assertTrue(ledger.refusal(1, 512).contains("4 of 4 budgeted CPUs"), ledger.refusal(1, 512));
        ledger.release("qa-2");
        // Now memory is the limit: 1024 taken, 2048 left.
        assertFalse(ledger.tryReserve("qa-3", 1, 2049).isPresent());
        assertTrue(ledger.tryReserve("qa-3", 1, 2048).isPresent());
    }

    @Test
    void aVmLargerThanTheBudgetIsExplained() {
        CapacityLedger ledger = new CapacityLedger(new CapacityLedger.Limits(10, 4, 0));
        assertTrue(ledger.refusal(8, 1024).contains("can never fit"), ledger.refusal(8, 1024));
        assertFalse(ledger.tryReserve("qa-1", 8, 1024).isPresent());
    }

    @Test
    void releaseHappensExactlyOnce() {
        CapacityLedger ledger = new CapacityLedger(new CapacityLedger.Limits(1, 0, 0));
        CapacityLedger.Reservation r = ledger.tryReserve("qa-1", 1, 512).orElseThrow();
        assertTrue(ledger.holds("qa-1"));
        assertTrue(r.release());
        assertFalse(r.release());
        assertFalse(ledger.release("qa-1"));
        assertTrue(r.isReleased());
        assertEquals(new CapacityLedger.Usage(0, 0, 0), ledger.usage());
        // The id may be booked again, and the old token must not release the new booking.
        CapacityLedger.Reservation again = ledger.tryReserve("qa-1", 1, 512).orElseThrow();
        assertFalse(r.release());
        assertTrue(ledger.holds("qa-1"));
        again.close();
        assertFalse(ledger.holds("qa-1"));
    }

    @Test
    void oneReservationPerVm() {
        CapacityLedger ledger = new CapacityLedger(new CapacityLedger.Limits(5, 0, 0));
        ledger.tryReserve("qa-1", 1, 512).orElseThrow();
        assertThrows(IllegalStateException.class, () -> ledger.tryReserve("qa-1", 1, 512));
    }

    @Test
    void loweringTheCapKeepsRunningVmsButStopsNewOnes() {
        CapacityLedger ledger = new CapacityLedger(new CapacityLedger.Limits(3, 0, 0));
        ledger.tryReserve("qa-1", 1, 512).orElseThrow();
        ledger.tryReserve("qa-2", 1, 512).orElseThrow();
        ledger.setLimits(new CapacityLedger.Limits(1, 0, 0));
        assertEquals(2, ledger.usage().instances());
        assertFalse(ledger.tryReserve("qa-3", 1, 512).isPresent());
        ledger.release("qa-1");
        assertFalse(ledger.tryReserve("qa-3", 1, 512).isPresent());
        ledger.release("qa-2");
        assertTrue(ledger.tryReserve("qa-3", 1, 512).isPresent());
    }

    @Test
    void limitsAreValidated() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> new CapacityLedger.Limits(0, 0, 0));
        assertEquals("instanceCap", e.field());
        assertEquals("hostCpus", assertThrows(InvalidInputException.class, () -> new CapacityLedger.Limits(1, -1, 0)).field());
        assertEquals("hostMemory", assertThrows(InvalidInputException.class, () -> new CapacityLedger.Limits(1, 0, -5)).field());
    }

    @Test
    void unclaimedOldReservationsAreFound() {
        MutableClock clock = new MutableClock(Instant.parse("2025-01-01T00:00:00Z"));
        CapacityLedger ledger = new CapacityLedger(new CapacityLedger.Limits(5, 0, 0), clock);
        ledger.tryReserve("qa-old-claimed", 1, 512).orElseThrow();
        ledger.tryReserve("qa-old-lost", 1, 512).orElseThrow();
        clock.advance(Duration.ofMinutes(30));
        ledger.tryReserve("qa-new", 1, 512).orElseThrow();
        List<String> stale = ledger.unclaimedOlderThan(Duration.ofMinutes(15), id -> id.equals("qa-old-claimed"));
        assertEquals(List.of("qa-old-lost"), stale);
        assertEquals(Set.of("qa-old-claimed", "qa-old-lost", "qa-new"), ledger.vmIds());
    }

    /**
     * Many threads book and release at random as concurrent provisioning rounds would; at no
     * moment may the booked VMs, CPUs or memory exceed the limits, and everything must balance
     * at the end.
     */
    @Test
    void neverOvershootsUnderConcurrency() throws Exception {
        int cap = 7;
        int cpuBudget = 12;
        long memBudget = 9 * 1024;
        CapacityLedger ledger = new CapacityLedger(new CapacityLedger.Limits(cap, cpuBudget, memBudget));
        int threads = 32;
        int rounds = 2000;
        AtomicInteger liveVms = new AtomicInteger();
        AtomicInteger liveCpus = new AtomicInteger();
        AtomicInteger maxVms = new AtomicInteger();
        AtomicInteger maxCpus = new AtomicInteger();
        AtomicInteger granted = new AtomicInteger();
        ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    ThreadLocalRandom rnd = ThreadLocalRandom.current();
                    for (int i = 0; i < rounds; i++) {
                        int cpus = 1 + rnd.nextInt(3);
                        long mem = 512L * (1 + rnd.nextInt(4));
                        Optional<CapacityLedger.Reservation> r = ledger.tryReserve("qa-" + thread + "-" + i, cpus, mem);
                        if (r.isEmpty()) {
                            continue;
                        }
                        granted.incrementAndGet();
                        int vms = liveVms.incrementAndGet();
                        int c = liveCpus.addAndGet(cpus);
                        maxVms.accumulateAndGet(vms, Math::max);
                        maxCpus.accumulateAndGet(c, Math::max);
                        CapacityLedger.Usage u = ledger.usage();
                        if (u.instances() > cap || u.cpus() > cpuBudget || u.memoryMiB() > memBudget) {
                            violations.add(u.toString());
                        }
                        if (rnd.nextInt(4) == 0) {
                            Thread.yield();
                        }
                        liveVms.decrementAndGet();
                        liveCpus.addAndGet(-cpus);
                        // Release twice from racing paths: only one may count.
                        boolean first = r.get().release();
                        boolean second = ledger.release(r.get().vmId());
                        if (first == second) {
                            violations.add("double release of " + r.get().vmId());
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertTrue(violations.isEmpty(), () -> "limits exceeded: " + violations.stream().limit(5).toList());
        assertTrue(maxVms.get() <= cap, "max VMs " + maxVms.get());
        assertTrue(maxCpus.get() <= cpuBudget, "max CPUs " + maxCpus.get());
        assertTrue(granted.get() > 0);
        assertEquals(new CapacityLedger.Usage(0, 0, 0), ledger.usage());
        assertTrue(ledger.vmIds().isEmpty());
        assertNull(ledger.refusal(1, 512));
        assertNotNull(ledger.limits());
    }

    @Test
    void concurrentBurstGetsExactlyTheCap() throws Exception {
        CapacityLedger ledger = new CapacityLedger(new CapacityLedger.Limits(2, 0, 0));
        int threads = 50;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        AtomicInteger won = new AtomicInteger();
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                String id = "qa-" + t;
                futures.add(pool.submit(() -> {
                    start.await();
                    if (ledger.tryReserve(id, 1, 512).isPresent()) {
                        won.incrementAndGet();
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(2, won.get());
        assertEquals(2, ledger.usage().instances());
    }
}
