package io.jenkins.plugins.qemu.engine.warm;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.testing.MutableClock;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A broken image gets a bounded number of snapshot builds; a changed one gets new chances. */
class SnapshotAttemptsTest {
    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-02T10:00:00Z"));
    private final SnapshotAttempts attempts = new SnapshotAttempts(clock);
    private final SnapshotKey key = key("42 bytes");

    private static SnapshotKey key(String base) {
        return SnapshotKey.of("stock", Map.of("cpus", "1"), Map.of("base image", base));
    }

    @Test
    void threeFailuresInARowRefuseFurtherBuildsUntilTheCoolDownEnds() {
        for (int i = 1; i < SnapshotAttempts.MAX_FAILURES; i++) {
            attempts.failed(key, "sshd never started");
            assertNull(attempts.refusal(key), "attempt " + (i + 1) + " is still allowed");
        }
        attempts.failed(key, "sshd never started");
        String why = attempts.refusal(key);
        assertNotNull(why);
        assertTrue(why.contains("3 times in a row") && why.contains("sshd never started") && why.contains("2026-12-02T11:00:00Z"), why);
        clock.advance(SnapshotAttempts.COOL_DOWN.minusSeconds(1));
        assertNotNull(attempts.refusal(key));
        clock.advance(java.time.Duration.ofSeconds(1));
        assertNull(attempts.refusal(key), "after the cool-down one more try is allowed");
    }

    @Test
    void aChangedImageOrASuccessStartsAfresh() {
        for (int i = 0; i < SnapshotAttempts.MAX_FAILURES; i++) {
            attempts.failed(key, "boom");
        }
        SnapshotKey replaced = key("43 bytes");
        assertNull(attempts.refusal(replaced), "a replaced image is tried at once");
        attempts.failed(replaced, "boom");
        assertNull(attempts.refusal(replaced), "and its count starts at one");
        attempts.succeeded(replaced);
        assertNull(attempts.refusal(key));
    }

    @Test
    void slotsAreCountedApart() {
        SnapshotKey other = SnapshotKey.of("stock", Map.of("cpus", "2"), Map.of("base image", "42 bytes"));
        for (int i = 0; i < SnapshotAttempts.MAX_FAILURES; i++) {
            attempts.failed(key, "boom");
        }
        assertNotNull(attempts.refusal(key));
        assertNull(attempts.refusal(other));
    }
}
