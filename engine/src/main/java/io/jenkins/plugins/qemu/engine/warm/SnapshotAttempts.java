package io.jenkins.plugins.qemu.engine.warm;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Remembers failed warm-snapshot builds per slot, so an image whose snapshot cannot be made (a
 * guest without systemd, a service that never starts) costs a bounded number of whole boots, not
 * one for every VM asked of it. After {@link #MAX_FAILURES} failures in a row with the same
 * environment, builds are refused until that environment changes (a new image, QEMU or
 * accelerator) or the cool-down has passed; VMs then boot cold with the refusal as their reason.
 */
final class SnapshotAttempts {
    static final int MAX_FAILURES = 3;
    static final Duration COOL_DOWN = Duration.ofHours(1);

    private record Failures(SnapshotKey key, int count, String last, Instant at) {}

    private final ConcurrentHashMap<String, Failures> failures = new ConcurrentHashMap<>();
    private final Clock clock;

    SnapshotAttempts(Clock clock) {
        this.clock = clock;
    }

    void failed(SnapshotKey key, String why) {
        failures.merge(key.slot(), new Failures(key, 1, why, clock.instant()),
                (old, now) -> new Failures(key, old.key().equals(key) ? old.count() + 1 : 1, why, now.at()));
    }

    void succeeded(SnapshotKey key) {
        failures.remove(key.slot());
    }

    /** Why no build of {@code key} may be tried now, or null when one may. */
    String refusal(SnapshotKey key) {
        Failures f = failures.get(key.slot());
        if (f == null || !f.key().equals(key) || f.count() < MAX_FAILURES) {
            return null;
        }
        Instant retry = f.at().plus(COOL_DOWN);
        if (!clock.instant().isBefore(retry)) {
            return null;
        }
        return "the warm snapshot failed to build " + f.count() + " times in a row (last: " + f.last()
                + "); not tried again before " + retry + " unless the image, QEMU or the template changes";
    }
}
