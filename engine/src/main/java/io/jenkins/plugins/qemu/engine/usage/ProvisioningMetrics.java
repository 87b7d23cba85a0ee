package io.jenkins.plugins.qemu.engine.usage;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * How provisioning went, without Jenkins: VMs provisioned (cold or warm, per template), failures
 * by phase, the time from request to online and from queue to a build's start and its first step
 * (a pipeline's), the VMs running per template, and orphans reaped. The plugin keeps one per
 * state directory (the engine its clouds share, whose reaper counts the orphans) and records into it
 * where these things happen; every event is handed on to a {@link Sink} (the Jenkins metrics
 * plugin's registry when that plugin is installed), and {@link #snapshot()} is what the owner
 * leaves in the state directory ({@link MetricsFile}) for {@code qemu-agents metrics} in another
 * process. The names are the same in both places, so the CLI and the metrics plugin agree.
 */
public final class ProvisioningMetrics {
    /** Where a provisioning failed: the VM never came online, or its agent never connected. */
    public enum Failure {
        BOOT("boot"), AGENT("agent");

        private final String key;

        Failure(String key) {
            this.key = key;
        }

        public String key() {
            return key;
        }
    }

    /** Receives each event as it is recorded, e.g. to update the Jenkins metrics plugin's registry. */
    public interface Sink {
        Sink NONE = new Sink() {
            @Override
            public void counted(String name) {}

            @Override
            public void timed(String name, Duration d) {}
        };

        void counted(String name);

        void timed(String name, Duration d);

        /** {@code template} was named by an event for the first time, e.g. to add its running-VMs gauge. */
        default void templateSeen(String template) {}
    }

    /** What was counted up to {@code at}: counters, timing summaries and VMs running per template. */
    public record Snapshot(String source, Instant since, Instant at, Map<String, Long> counters,
            Map<String, TimingWindow.Summary> timings, Map<String, Integer> running) {}

    public static final String PROVISIONED = "provisioned";
    public static final String FAILED = "failed";
    public static final String REAPED = "reaped.orphans";
    public static final String TIME_TO_ONLINE = "time-to-online";
    public static final String QUEUE_TO_START = "queue-to-start";
    public static final String QUEUE_TO_FIRST_STEP = "queue-to-first-step";
    public static final String RUNNING = "running";

    private final String source;
    private final Clock clock;
    private final Instant since;
    private final Supplier<Map<String, Integer>> running;
    private final Sink sink;
    private final Map<String, Long> counters = new TreeMap<>();
    private final Map<String, TimingWindow> timings = new TreeMap<>();
    private final Set<String> templates = new HashSet<>();

    /**
     * @param source what is counted, for people reading the snapshot, e.g. "cloud qemu"
     * @param running the VMs running now per template, asked at each snapshot
     * @param sink where each event also goes
     */
    public ProvisioningMetrics(String source, Clock clock, Supplier<Map<String, Integer>> running, Sink sink) {
        this.source = Objects.requireNonNull(source, "source");
        this.clock = clock;
        this.since = clock.instant();
        this.running = running;
        this.sink = sink;
    }

    /** A VM of {@code template} came online, restored from a warm snapshot or booted cold, {@code took} after it was asked for. */
    public void vmOnline(String template, boolean warm, Duration took) {
        seen(template);
        String kind = warm ? "warm" : "cold";
        increment(PROVISIONED, PROVISIONED + "." + kind, PROVISIONED + ".template." + template);
        time(TIME_TO_ONLINE + "." + kind, took);
    }

    /** A VM of {@code template} failed in {@code phase}; its booking was released. */
    public void failed(String template, Failure phase) {
        seen(template);
        increment(FAILED, FAILED + "." + phase.key(), FAILED + ".template." + template);
    }

    /** A build (a freestyle build, a pipeline's {@code node} block) started on a VM of {@code template} {@code took} after it was queued. */
    public void buildStarted(String template, Duration took) {
        time(QUEUE_TO_START, took);
    }

    /** A pipeline's first step on a VM of {@code template} began {@code took} after the build was queued. */
    public void firstStep(String template, Duration took) {
        time(QUEUE_TO_FIRST_STEP, took);
        time(QUEUE_TO_FIRST_STEP + ".template." + template, took);
    }

    /** The reaper destroyed {@code count} VMs that nothing wanted (dead owners, bookings nobody claimed). */
    public void reaped(int count) {
        for (int i = 0; i < count; i++) {
            increment(REAPED);
        }
    }

    public synchronized Snapshot snapshot() {
        Map<String, TimingWindow.Summary> t = new TreeMap<>();
        timings.forEach((name, w) -> t.put(name, w.summary()));
        return new Snapshot(source, since, clock.instant(), Map.copyOf(counters), t, new TreeMap<>(running.get()));
    }

    /** The counter {@code name}'s value, 0 when nothing was counted under it. */
    public synchronized long count(String name) {
        return counters.getOrDefault(name, 0L);
    }

    private void seen(String template) {
        boolean first;
        synchronized (this) {
            first = templates.add(template);
        }
        if (first) {
            sink.templateSeen(template);
        }
    }

    private void increment(String... names) {
        synchronized (this) {
            for (String n : names) {
                counters.merge(n, 1L, Long::sum);
            }
        }
        for (String n : names) {
            sink.counted(n);
        }
    }

    private void time(String name, Duration took) {
        Duration d = took.isNegative() ? Duration.ZERO : took;
        synchronized (this) {
            timings.computeIfAbsent(name, n -> new TimingWindow()).add(d);
        }
        sink.timed(name, d);
    }
}
