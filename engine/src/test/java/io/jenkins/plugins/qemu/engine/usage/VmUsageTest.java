package io.jenkins.plugins.qemu.engine.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The record's validation and its summary line. */
class VmUsageTest {
    private static final Instant T = Instant.parse("2026-12-03T12:00:00Z");

    @Test
    void summaryGivesEveryFigureAndSaysWhichWereNotRead() {
        VmUsage u = new VmUsage(T, 12_340_000_000L, 200_000_000L, 15_000_000_000L, 512L << 20, 530L << 20, 210L << 20,
                206L << 20, 205L << 20, 180L << 20, 420L << 20, 21L << 20, 3L << 20);
        assertEquals("vCPU 12.3 s (waited 0.2 s for a host CPU), QEMU CPU 15.0 s, host RSS 512 MiB (peak 530 MiB), "
                + "disk written 210 MiB, overlay +205 MiB (now 206 MiB), guest memory 180 MiB (peak 420 MiB), "
                + "network in 21 MiB / out 3 MiB", u.summary());
        VmUsage none = new VmUsage(T, -1, -1, 1_000_000_000L, -1, -1, -1, -1, -1);
        assertEquals("vCPU n/a (waited n/a for a host CPU), QEMU CPU 1.0 s, host RSS n/a (peak n/a), disk written n/a, "
                + "overlay n/a (now n/a), guest memory n/a (peak n/a), network in n/a / out n/a", none.summary());
    }

    @Test
    void badFiguresAreRefusedNamingTheFieldAndValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new VmUsage(T, -5, 0, 0, 0, 0, 0, 0, 0));
        assertEquals("vcpuNanos must be -1 (unknown) or at least 0, not -5", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new VmUsage(T, 0, 0, 0, 10, 9, 0, 0, 0));
        assertEquals("peakRssBytes 9 is below rssBytes 10", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new VmUsage(T, 0, 0, 0, 0, 0, 0, -1, 7));
        assertEquals("overlayGrowthBytes 7 without overlayBytes", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new VmUsage(null, 0, 0, 0, 0, 0, 0, 0, 0));
        assertEquals("sampledAt is missing", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new VmUsage(T, 0, 0, 0, 0, 0, 0, 0, 0, 10, 9, 0, 0));
        assertEquals("guestMemPeakBytes 9 is below guestMemUsedBytes 10", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new VmUsage(T, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, -2, 0));
        assertEquals("netRxBytes must be -1 (unknown) or at least 0, not -2", e.getMessage());
    }

    @Test
    void peaksSeenEarlierAreKept() {
        VmUsage u = new VmUsage(T, 0, 0, 0, 100, 200, 0, 0, 0, 50, 50, 0, 0);
        VmUsage higher = u.withPeaksOf(new VmUsage(T, 0, 0, 0, 100, 300, 0, 0, 0, 90, 120, 0, 0));
        assertEquals(300, higher.peakRssBytes());
        assertEquals(120, higher.guestMemPeakBytes());
        assertEquals(50, higher.guestMemUsedBytes(), "only the peaks are carried over");
        assertSame(u, u.withPeaksOf(new VmUsage(T, 0, 0, 0, 100, 150, 0, 0, 0, 40, 40, 0, 0)));
        VmUsage unread = new VmUsage(T, 0, 0, 0, -1, -1, 0, 0, 0);
        assertSame(u, u.withPeaksOf(unread));
        // A sample that could not read the guest keeps the guest's peak so far.
        assertEquals(120, unread.withPeaksOf(higher).guestMemPeakBytes());
        assertEquals(VmUsage.UNKNOWN, unread.withPeaksOf(higher).guestMemUsedBytes());
    }
}
