package io.jenkins.plugins.qemu.engine.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tracker's rules over a VM's life, on hand-made /proc files: nothing before it begins, the
 * overlay counted from the begin, a peak never lowered, the last figures kept when the process is
 * gone, and nothing sampled after the final sample.
 */
class UsageTrackerTest {
    @TempDir
    Path root;

    private void process(long utime, long rssKib, long hwmKib) throws Exception {
        Files.createDirectories(root.resolve("42"));
        Files.writeString(root.resolve("42/stat"), "42 (qemu) S 1 42 42 0 -1 0 0 0 0 0 " + utime + " 0 0 0 20 0 3 0 777 0 0 0\n");
        Files.writeString(root.resolve("42/status"), "VmHWM:\t " + hwmKib + " kB\nVmRSS:\t " + rssKib + " kB\n");
    }

    @Test
    void keepsTheLastFiguresAndStopsAtTheFinalSample() throws Exception {
        Path overlay = Files.write(root.resolve("overlay.qcow2"), new byte[100]);
        List<VmUsage> published = new java.util.ArrayList<>();
        UsageTracker t = new UsageTracker(new UsageProbe(new ProcReader(root, 100), Clock.systemUTC()), () -> 42,
                () -> null, () -> overlay, NicCounters.NONE, published::add);
        process(100, 10, 20);
        assertNull(t.sample(), "not counting before the VM is online");

        t.begin(NicCounters.Totals.AT_BOOT);
        Files.write(overlay, new byte[1100]);
        VmUsage first = t.sample();
        assertEquals(1_000_000_000L, first.qemuCpuNanos());
        assertEquals(1000, first.overlayGrowthBytes(), "counted from the begin");
        assertEquals(20 * 1024, first.peakRssBytes());

        process(200, 5, 8); // a new process's high-water mark would be lower; ours never is
        VmUsage second = t.sample();
        assertEquals(2_000_000_000L, second.qemuCpuNanos());
        assertEquals(20 * 1024, second.peakRssBytes(), "the earlier peak is kept");

        Files.delete(root.resolve("42/stat")); // QEMU is gone
        assertSame(second, t.sample());

        process(300, 5, 8);
        VmUsage last = t.finish();
        assertEquals(3_000_000_000L, last.qemuCpuNanos());
        process(400, 5, 8);
        assertSame(last, t.sample(), "nothing is sampled after the final sample");
        assertSame(last, t.last());
        assertEquals(List.of(first, second, last), published, "every sample, with its peaks, is left for ps");
    }

    @Test
    void aPidThatNowNamesAnotherProcessIsNotRead() throws Exception {
        UsageTracker t = new UsageTracker(new UsageProbe(new ProcReader(root, 100), Clock.systemUTC()), () -> 42,
                () -> null, () -> null, NicCounters.NONE, u -> { });
        process(100, 10, 20);
        t.begin(NicCounters.Totals.AT_BOOT);
        VmUsage ours = t.sample();
        Files.writeString(root.resolve("42/stat"), "42 (other) S 1 42 42 0 -1 0 0 0 0 0 999 0 0 0 20 0 3 0 778 0 0 0\n");
        assertSame(ours, t.sample());
        assertEquals(VmUsage.UNKNOWN, ours.overlayBytes(), "no overlay path: unknown, not zero");
    }

    @Test
    void theNetworkIsCountedFromTheCountersAtTheStartAndAnUnreadableSampleKeepsTheLastFigures() throws Exception {
        java.util.ArrayDeque<NicCounters.Totals> reads = new java.util.ArrayDeque<>();
        NicCounters nics = reads::poll;
        UsageTracker t = new UsageTracker(new UsageProbe(new ProcReader(root, 100), Clock.systemUTC()), () -> 42,
                () -> null, () -> null, nics, u -> { });
        process(100, 10, 20);
        t.begin(new NicCounters.Totals(5000, 700)); // a restored guest's counters go on from its snapshot's
        assertEquals(List.of(), List.copyOf(reads), "nothing is read from the guest as it comes online");
        reads.add(new NicCounters.Totals(8000, 900));
        VmUsage first = t.sample();
        assertEquals(3000, first.netRxBytes());
        assertEquals(200, first.netTxBytes());
        VmUsage unread = t.sample(); // nothing to read: the guest did not answer
        assertEquals(3000, unread.netRxBytes(), "a lower bound, not unknown");
        reads.add(new NicCounters.Totals(10, 10)); // went back: a reloaded driver
        assertEquals(200, t.sample().netTxBytes());

        UsageTracker unknownStart = new UsageTracker(new UsageProbe(new ProcReader(root, 100), Clock.systemUTC()), () -> 42,
                () -> null, () -> null, nics, u -> { });
        unknownStart.begin(null); // an adopted VM: booted or restored, nobody can say
        reads.add(new NicCounters.Totals(8000, 900));
        assertEquals(VmUsage.UNKNOWN, unknownStart.sample().netRxBytes());
    }
}
