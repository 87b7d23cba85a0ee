package io.jenkins.plugins.qemu.engine.usage;

import com.fasterxml.jackson.databind.JsonNode;
import io.jenkins.plugins.qemu.engine.qmp.QmpClient;
import io.jenkins.plugins.qemu.engine.qmp.QmpException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * The guest's own memory figures, as its virtio-balloon driver reports them to QEMU: switched on
 * once per VM ({@link #start}: QEMU then asks the guest for fresh statistics every few seconds,
 * which costs the guest one small interrupt), read with one QMP {@code qom-get} per sample. The
 * balloon never inflates: it is there for its statistics (and, on warm VMs, free page reporting).
 * A guest without the driver never answers, so its figures stay UNKNOWN.
 */
final class BalloonStats {
    /** The balloon's QOM path: its {@code id} on QEMU's command line is {@link UsageProbe#BALLOON_ID}. */
    static final String PATH = "/machine/peripheral/" + UsageProbe.BALLOON_ID;
    /** How often QEMU asks the guest for statistics; a sample sees figures at most this old. */
    static final int POLL_SECONDS = 2;
    /** Older statistics mean the guest stopped answering: they no longer say what it uses now. */
    static final Duration STALE = Duration.ofSeconds(30);

    private BalloonStats() {}

    /** Asks QEMU to poll the guest's statistics; false if QEMU refused (no balloon) or failed. */
    static boolean start(QmpClient qmp, Duration timeout) throws InterruptedException {
        try {
            qmp.execute("qom-set", Map.of("path", PATH, "property", "guest-stats-polling-interval",
                    "value", POLL_SECONDS), timeout);
            return true;
        } catch (QmpException e) {
            return false;
        }
    }

    /** The guest's memory in use now, or UNKNOWN (no balloon, no report yet, stale, QMP failed). */
    static long usedBytes(QmpClient qmp, Instant now, Duration timeout) throws InterruptedException {
        try {
            return usedBytes(qmp.execute("qom-get", Map.of("path", PATH, "property", "guest-stats"), timeout), now);
        } catch (QmpException e) {
            return VmUsage.UNKNOWN;
        }
    }

    /**
     * Total minus available memory in a {@code guest-stats} value: what the guest's kernel could
     * not hand to a new program without swapping (its {@code MemTotal - MemAvailable}), so page
     * cache does not count as used but tmpfs files do. QEMU reports a figure the guest did not
     * send as -1 (as an unsigned 2^64-1) and {@code last-update} 0 before the first report.
     */
    static long usedBytes(JsonNode guestStats, Instant now) {
        long updated = guestStats.path("last-update").asLong(0);
        if (updated <= 0 || now.getEpochSecond() - updated > STALE.toSeconds()) {
            return VmUsage.UNKNOWN;
        }
        JsonNode stats = guestStats.path("stats");
        long total = figure(stats.path("stat-total-memory"));
        long available = figure(stats.path("stat-available-memory"));
        if (total == VmUsage.UNKNOWN || available == VmUsage.UNKNOWN || available > total) {
            return VmUsage.UNKNOWN;
        }
        return total - available;
    }

    private static long figure(JsonNode n) {
        return n.canConvertToLong() && n.asLong() >= 0 ? n.asLong() : VmUsage.UNKNOWN;
    }
}
