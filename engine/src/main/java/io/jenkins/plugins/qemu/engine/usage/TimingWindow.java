package io.jenkins.plugins.qemu.engine.usage;

import java.time.Duration;
import java.util.Arrays;

/**
 * The last {@value #SIZE} durations of one kind, for a median, 95th percentile and maximum that
 * follow what happens now rather than what happened on the first day (a cloud's controller runs
 * for months), and the count of all of them. Not thread-safe: {@link ProvisioningMetrics} holds
 * its lock around each use.
 */
public final class TimingWindow {
    static final int SIZE = 1024;

    /**
     * @param count all durations ever added
     * @param window how many the percentiles are over (the last ones, at most {@value #SIZE})
     */
    public record Summary(long count, int window, long medianMillis, long p95Millis, long maxMillis) {}

    private final long[] millis = new long[SIZE];
    private long count;

    void add(Duration d) {
        millis[(int) (count % SIZE)] = d.toMillis();
        count++;
    }

    Summary summary() {
        int n = (int) Math.min(count, SIZE);
        if (n == 0) {
            return new Summary(0, 0, 0, 0, 0);
        }
        long[] sorted = Arrays.copyOf(millis, n);
        Arrays.sort(sorted);
        return new Summary(count, n, rank(sorted, 0.5), rank(sorted, 0.95), sorted[n - 1]);
    }

    /** Nearest rank: the smallest value with at least {@code q} of the values at or below it. */
    private static long rank(long[] sorted, double q) {
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }
}
