package io.jenkins.plugins.qemu.engine.cloud;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Keeps a template that cannot boot from being retried at every provisioning pass. Each template
 * (by key) has a streak of failures: after the n-th failure in a row no VM of it is planned for
 * {@code 30 s × 2^(n-1)}, at most {@link #MAX_DELAY}; a VM that boots ends the streak. A template
 * that cannot boot at all (bad settings, image or QEMU missing) is {@linkplain #refuse refused}
 * with its reason until it can. Both say why and until when, for the queue, the cloud page and a
 * log line that is written once per reason rather than at every pass.
 */
public final class ProvisioningBackoff {
    public static final Duration FIRST_DELAY = Duration.ofSeconds(30);
    public static final Duration MAX_DELAY = Duration.ofMinutes(15);

    /**
     * Why a template plans no VM now.
     *
     * @param failuresInARow boots that failed in a row (0 for a refusal)
     * @param reason         the last failure's or the refusal's reason
     * @param retryAt        when a VM is planned again; null for a refusal (re-checked at every pass)
     */
    public record Blocked(int failuresInARow, String reason, Instant retryAt) {
        /** One line for a person: what is wrong and when it is tried again. */
        public String describe(Instant now) {
            if (retryAt == null) {
                return "cannot boot VMs: " + reason;
            }
            long seconds = Math.max(0, Duration.between(now, retryAt).toSeconds());
            return failuresInARow + (failuresInARow == 1 ? " boot" : " boots") + " failed in a row, last: " + reason
                    + "; next attempt in " + seconds + " s";
        }
    }

    private record State(int failures, String reason, Instant retryAt, String refusal, String lastLogged) {}

    private final Clock clock;
    private final Map<String, State> states = new HashMap<>();

    public ProvisioningBackoff(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** How long a template waits after its n-th failure in a row. */
    public static Duration delayAfter(int failuresInARow) {
        if (failuresInARow < 1) {
            return Duration.ZERO;
        }
        int doublings = Math.min(failuresInARow - 1, 30);
        Duration d = FIRST_DELAY.multipliedBy(1L << doublings);
        return d.compareTo(MAX_DELAY) > 0 ? MAX_DELAY : d;
    }

    /**
     * Records a failed boot. Returns true when the reason differs from the last one logged for this
     * template, so the caller logs it once at warning level and repeats at a lower level.
     */
    public synchronized boolean failed(String key, String reason) {
        State s = states.get(key);
        int failures = (s == null ? 0 : s.failures()) + 1;
        Instant retryAt = clock.instant().plus(delayAfter(failures));
        String logged = s == null ? null : s.lastLogged();
        states.put(key, new State(failures, reason, retryAt, s == null ? null : s.refusal(), reason));
        return !reason.equals(logged);
    }

    /** A VM of the template booted: its streak and any refusal end. */
    public synchronized void succeeded(String key) {
        states.remove(key);
    }

    /**
     * The template cannot boot now (its check failed before any VM was tried): refused until a
     * later check passes ({@code reason} null). Returns true when this is a new reason, to log once.
     */
    public synchronized boolean refuse(String key, String reason) {
        State s = states.get(key);
        if (reason == null) {
            if (s != null && s.refusal() != null) {
                states.put(key, new State(s.failures(), s.reason(), s.retryAt(), null, s.failures() == 0 ? null : s.lastLogged()));
            }
            return false;
        }
        String logged = s == null ? null : s.lastLogged();
        states.put(key, s == null ? new State(0, null, null, reason, reason)
                : new State(s.failures(), s.reason(), s.retryAt(), reason, reason));
        return !reason.equals(logged);
    }

    /** Why the template plans no VM now; empty when it may. */
    public synchronized Optional<Blocked> blocked(String key) {
        State s = states.get(key);
        if (s == null) {
            return Optional.empty();
        }
        if (s.refusal() != null) {
            return Optional.of(new Blocked(0, s.refusal(), null));
        }
        if (s.failures() > 0 && clock.instant().isBefore(s.retryAt())) {
            return Optional.of(new Blocked(s.failures(), s.reason(), s.retryAt()));
        }
        return Optional.empty();
    }

    /** The last failures of a template that may be tried again, for the cloud page; empty when none. */
    public synchronized Optional<Blocked> lastFailure(String key) {
        State s = states.get(key);
        return s == null || s.failures() == 0 ? Optional.empty() : Optional.of(new Blocked(s.failures(), s.reason(), s.retryAt()));
    }

    public Instant now() {
        return clock.instant();
    }
}
