package io.jenkins.plugins.qemu.engine.vm;

import java.io.Serializable;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.StringJoiner;

/**
 * How long each phase of one VM took. Phases are timed back to back from the request, except
 * {@link Phase#FIRST_CONSOLE}, which overlaps the SSH wait and is measured from QEMU's start.
 */
public final class PhaseTimings implements Serializable {
    private static final long serialVersionUID = 1L;

    private final EnumMap<Phase, Duration> durations = new EnumMap<>(Phase.class);

    /** Adds up: a restore that failed and the cold boot after it both count towards time-to-online. */
    synchronized void record(Phase phase, Duration d) {
        durations.merge(phase, d, Duration::plus);
    }

    public synchronized Map<Phase, Duration> asMap() {
        return Collections.unmodifiableMap(new EnumMap<>(durations));
    }

    public synchronized Duration get(Phase phase) {
        return durations.get(phase);
    }

    /** Request to verified SSH login: the figure users feel. */
    public synchronized Duration timeToOnline() {
        Duration total = Duration.ZERO;
        for (Map.Entry<Phase, Duration> e : durations.entrySet()) {
            if (e.getKey() != Phase.FIRST_CONSOLE && e.getKey().ordinal() <= Phase.EGRESS.ordinal()) {
                total = total.plus(e.getValue());
            }
        }
        return total;
    }

    @Override
    public synchronized String toString() {
        StringJoiner j = new StringJoiner(", ");
        durations.forEach((p, d) -> j.add(p.name().toLowerCase() + "=" + millis(d)));
        return j.toString();
    }

    public static String millis(Duration d) {
        return d == null ? "-" : String.format("%.2fs", d.toMillis() / 1000.0);
    }
}
