package io.jenkins.plugins.qemu.engine.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.state.VmDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cloud's provisioning counters: what is counted under which name, the timing windows, the file the CLI reads. */
class ProvisioningMetricsTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-03T19:00:00Z"), ZoneOffset.UTC);

    @TempDir
    Path tmp;

    @Test
    void eachEventIsCountedInTotalByKindAndByTemplateAndHandedToTheSink() {
        List<String> seen = new ArrayList<>();
        ProvisioningMetrics.Sink sink = new ProvisioningMetrics.Sink() {
            @Override
            public void counted(String name) {
                seen.add("+" + name);
            }

            @Override
            public void timed(String name, Duration d) {
                seen.add(name + "=" + d.toMillis());
            }

            @Override
            public void templateSeen(String template) {
                seen.add("new " + template);
            }
        };
        ProvisioningMetrics m = new ProvisioningMetrics("cloud qemu", CLOCK, () -> Map.of("debian-12", 2), sink);
        m.vmOnline("debian-12", false, Duration.ofSeconds(31));
        m.vmOnline("debian-12", true, Duration.ofMillis(2900));
        m.vmOnline("stock", true, Duration.ofMillis(3100));
        m.failed("stock", ProvisioningMetrics.Failure.BOOT);
        m.failed("stock", ProvisioningMetrics.Failure.AGENT);
        m.buildStarted("debian-12", Duration.ofSeconds(38));
        m.firstStep("debian-12", Duration.ofSeconds(40));
        m.reaped(2);

        assertEquals(3, m.count("provisioned"));
        assertEquals(1, m.count("provisioned.cold"));
        assertEquals(2, m.count("provisioned.warm"));
        assertEquals(2, m.count("provisioned.template.debian-12"));
        assertEquals(2, m.count("failed"));
        assertEquals(1, m.count("failed.boot"));
        assertEquals(1, m.count("failed.agent"));
        assertEquals(2, m.count("failed.template.stock"));
        assertEquals(2, m.count("reaped.orphans"));
        assertEquals(0, m.count("provisioned.template.nothing"));
        assertEquals(List.of("new debian-12", "+provisioned", "+provisioned.cold", "+provisioned.template.debian-12",
                "time-to-online.cold=31000"), seen.subList(0, 5));
        assertEquals(List.of("new debian-12", "new stock"), seen.stream().filter(e -> e.startsWith("new ")).toList(),
                "each template is announced once");
        assertTrue(seen.contains("queue-to-start=38000"), seen.toString());
        assertTrue(seen.contains("queue-to-first-step=40000") && seen.contains("queue-to-first-step.template.debian-12=40000"), seen.toString());
        assertEquals(2, seen.stream().filter("+reaped.orphans"::equals).count());

        ProvisioningMetrics.Snapshot s = m.snapshot();
        assertEquals(2, s.timings().get("time-to-online.warm").count());
        assertEquals(3100, s.timings().get("time-to-online.warm").maxMillis());
        assertEquals(Map.of("debian-12", 2), s.running());
        assertEquals("cloud qemu", s.source());
    }

    @Test
    void timingsAreTheMedianP95AndMaxOfTheLast1024WithTheCountOfAll() {
        TimingWindow w = new TimingWindow();
        assertEquals(new TimingWindow.Summary(0, 0, 0, 0, 0), w.summary());
        for (int i = 1; i <= 100; i++) {
            w.add(Duration.ofMillis(i));
        }
        assertEquals(new TimingWindow.Summary(100, 100, 50, 95, 100), w.summary());
        // 2000 more at 7 ms push the first 100 out of the window, the count goes on.
        for (int i = 0; i < 2000; i++) {
            w.add(Duration.ofMillis(7));
        }
        assertEquals(new TimingWindow.Summary(2100, TimingWindow.SIZE, 7, 7, 7), w.summary());
    }

    @Test
    void aNegativeDurationCountsAsZero() {
        ProvisioningMetrics m = new ProvisioningMetrics("c", CLOCK, Map::of, ProvisioningMetrics.Sink.NONE);
        m.firstStep("t", Duration.ofSeconds(-3));
        assertEquals(0, m.snapshot().timings().get("queue-to-first-step").maxMillis());
    }

    @Test
    void concurrentEventsAreAllCounted() throws InterruptedException {
        ProvisioningMetrics m = new ProvisioningMetrics("c", CLOCK, Map::of, ProvisioningMetrics.Sink.NONE);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        for (int t = 0; t < 8; t++) {
            pool.execute(() -> {
                for (int i = 0; i < 500; i++) {
                    m.vmOnline("t", i % 2 == 0, Duration.ofMillis(i));
                }
            });
        }
        pool.shutdown();
        assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
        assertEquals(4000, m.count("provisioned"));
        assertEquals(2000, m.snapshot().timings().get("time-to-online.warm").count());
    }

    @Test
    void theFileRoundTripsAndIsOwnerOnly() throws IOException {
        AtomicReference<Map<String, Integer>> running = new AtomicReference<>(Map.of("debian-12", 1));
        ProvisioningMetrics m = new ProvisioningMetrics("cloud qemu", CLOCK, running::get, ProvisioningMetrics.Sink.NONE);
        m.vmOnline("debian-12", false, Duration.ofSeconds(30));
        m.firstStep("debian-12", Duration.ofSeconds(45));
        Path file = MetricsFile.of(tmp, "owner-1.cloud-a");
        MetricsFile.write(file, m.snapshot());
        assertEquals(m.snapshot(), MetricsFile.read(file));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve(VmDir.METRICS))));
        // A second write replaces the first whole, and leaves no temporary file.
        running.set(Map.of());
        m.reaped(1);
        MetricsFile.write(file, m.snapshot());
        List<String> unreadable = new ArrayList<>();
        Map<String, ProvisioningMetrics.Snapshot> all = MetricsFile.readAll(tmp, unreadable);
        assertEquals(List.of(), unreadable);
        assertEquals(Map.of("owner-1.cloud-a", m.snapshot()), all);
        try (var files = Files.list(tmp.resolve(VmDir.METRICS))) {
            assertEquals(List.of("owner-1.cloud-a.json"), files.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void aBrokenFileIsNamedAndTheOthersAreStillRead() throws IOException {
        MetricsFile.write(MetricsFile.of(tmp, "good"), new ProvisioningMetrics("c", CLOCK, Map::of, ProvisioningMetrics.Sink.NONE).snapshot());
        Files.writeString(tmp.resolve(VmDir.METRICS).resolve("bad.json"), "{not json");
        List<String> unreadable = new ArrayList<>();
        assertEquals(List.of("good"), List.copyOf(MetricsFile.readAll(tmp, unreadable).keySet()));
        assertEquals(1, unreadable.size());
        assertTrue(unreadable.get(0).contains("bad.json"), unreadable.toString());
        assertEquals(Map.of(), MetricsFile.readAll(tmp.resolve("nothing-here"), unreadable));
    }

    @Test
    void aFileNameThatCouldLeaveTheFolderIsRefusedByName() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> MetricsFile.of(tmp, "../x"));
        assertTrue(e.getMessage().contains("metrics file name") && e.getMessage().contains("'../x'"), e.getMessage());
    }

    @Test
    void theMetricsFolderIsNeverTakenForAVm() {
        assertTrue(VmDir.isNonVmFolder(VmDir.METRICS));
    }
}
