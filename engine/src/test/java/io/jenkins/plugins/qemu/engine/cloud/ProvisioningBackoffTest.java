package io.jenkins.plugins.qemu.engine.cloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * Point 3 of the plugin-robustness issue: a template that cannot boot is not retried at every
 * 10-second provisioning pass, says why, and is tried again later.
 */
class ProvisioningBackoffTest {
    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-03T00:00:00Z"));
    private final ProvisioningBackoff backoff = new ProvisioningBackoff(clock);

    @ParameterizedTest(name = "after {0} failures in a row wait {1} s")
    @CsvSource({"0,0", "1,30", "2,60", "3,120", "4,240", "5,480", "6,900", "7,900", "40,900"})
    void delaysDoubleUpToACap(int failures, long seconds) {
        assertEquals(Duration.ofSeconds(seconds), ProvisioningBackoff.delayAfter(failures));
    }

    /**
     * A provisioning pass every 10 s for 10 minutes against a template whose every boot fails:
     * without back-off that is 60 boots; with it, attempts at 0, 30, 90, 210 and 450 s.
     */
    @Test
    void aStormBecomesAHandfulOfAttempts() {
        int attempts = 0;
        StringBuilder at = new StringBuilder();
        for (int second = 0; second < 600; second += 10) {
            if (backoff.blocked("t").isEmpty()) {
                attempts++;
                at.append(second).append(' ');
                backoff.failed("t", "QEMU exited: boom");
            }
            clock.advance(Duration.ofSeconds(10));
        }
        assertEquals("0 30 90 210 450 ", at.toString());
        assertEquals(5, attempts);
    }

    @Test
    void aBootThatWorksEndsTheStreak() {
        backoff.failed("t", "x");
        backoff.failed("t", "x");
        assertTrue(backoff.blocked("t").isPresent());
        backoff.succeeded("t");
        assertTrue(backoff.blocked("t").isEmpty());
        assertTrue(backoff.lastFailure("t").isEmpty());
        backoff.failed("t", "x");
        assertEquals(1, backoff.blocked("t").orElseThrow().failuresInARow(), "a new streak starts at one");
    }

    @Test
    void templatesAreIndependent() {
        backoff.failed("a", "x");
        assertTrue(backoff.blocked("a").isPresent());
        assertTrue(backoff.blocked("b").isEmpty());
    }

    @Test
    void theReasonIsLoggedOncePerChange() {
        assertTrue(backoff.failed("t", "image 'x' is missing"));
        clock.advance(Duration.ofMinutes(1));
        assertFalse(backoff.failed("t", "image 'x' is missing"), "same reason: not again");
        clock.advance(Duration.ofMinutes(2));
        assertTrue(backoff.failed("t", "QEMU exited"), "a new reason is logged");
    }

    @Test
    void saysWhyAndWhenInOneLine() {
        backoff.failed("t", "QEMU exited: no space left");
        clock.advance(Duration.ofSeconds(10));
        ProvisioningBackoff.Blocked b = backoff.blocked("t").orElseThrow();
        assertEquals("1 boot failed in a row, last: QEMU exited: no space left; next attempt in 20 s", b.describe(clock.instant()));
        clock.advance(Duration.ofSeconds(21));
        assertTrue(backoff.blocked("t").isEmpty(), "free to try again");
        assertEquals(1, backoff.lastFailure("t").orElseThrow().failuresInARow(), "the cloud page still shows the failure");
    }

    @Test
    void aRefusalHoldsUntilTheCheckPasses() {
        assertTrue(backoff.refuse("t", "user: 'root' is not allowed"));
        assertFalse(backoff.refuse("t", "user: 'root' is not allowed"), "logged once, not every pass");
        clock.advance(Duration.ofHours(3));
        ProvisioningBackoff.Blocked b = backoff.blocked("t").orElseThrow();
        assertNull(b.retryAt());
        assertEquals("cannot boot VMs: user: 'root' is not allowed", b.describe(clock.instant()));
        backoff.refuse("t", null);
        assertTrue(backoff.blocked("t").isEmpty());
        assertTrue(backoff.refuse("t", "user: 'root' is not allowed"), "after a fix and a relapse it is logged again");
    }
}
