package io.jenkins.plugins.qemu.engine.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchReportTest {

    @Test
    void statsUseNearestRankAndIgnoreMissingValues() {
        Stats s = Stats.of(List.of(3.0, 1.0, 2.0, Double.NaN, 10.0));
        assertEquals(4, s.n());
        assertEquals(2.5, s.median());
        assertEquals(10.0, s.p95());
        assertEquals(10.0, s.max());
        assertEquals(0, Stats.of(List.of()).n());
    }

    @Test
    void tableShowsEachConfigAsRatioToTheBaselineAndFilesAreWritten(@TempDir Path dir) throws Exception {
        BenchReport r = new BenchReport();
        r.add(List.of(sample("baseline", 40), sample("baseline", 44), sample("baseline", 42)));
        r.add(List.of(sample("sequential", 20), sample("sequential", 21), Sample.failed("sequential", 2, "boom")));
        String table = r.table();
        assertTrue(table.contains("0.49x"), table); // median 20.5 / 42
        assertTrue(table.contains("1.00x"), table);
        assertTrue(table.lines().anyMatch(l -> l.startsWith("sequential") && l.contains("  2    1 |")), table);
        r.write(dir);
        assertEquals(7, Files.readAllLines(dir.resolve("bench.csv")).size());
        assertTrue(Files.readString(dir.resolve("bench.json")).contains("\"error\" : \"boom\""));
    }

    @Test
    void agentTableSumsOnlineJarAndJvmPerSampleAndIsAbsentWithoutTheWorkload() {
        BenchReport r = new BenchReport();
        r.add(List.of(sample("restore", 2)));
        assertEquals("", r.agentTable(), "no agent phases, no agent table");
        r.add(List.of(agentSample("restore-agent", 1.0, 0.25, 2.0, 0), agentSample("restore-agent", 1.5, 0.25, 2.5, 0),
                agentSample("restore-agent", 3.0, 0.5, 1.0, 0), agentSample("sequential-agent", 20, 1.0, 3.0, 1)));
        String t = r.agentTable();
        // Per sample 3.25, 4.25 and 4.5 s; the median of the sums, not the sum of the medians (4.0).
        assertTrue(t.lines().anyMatch(l -> l.startsWith("restore-agent") && l.contains(" 4.25 /  4.50 ")), t);
        assertTrue(t.lines().anyMatch(l -> l.startsWith("sequential-agent") && l.contains("24.00 / 24.00 |  3.50 /  3.50 |  4.00 /  4.00 |   0.00 |   1.00 |")), t);
        assertTrue(t.lines().anyMatch(l -> l.startsWith("restore-agent") && l.contains("|   1.00 |   0.00 |")), "pre-started, not copied: " + t);
        assertTrue(r.table().contains("agent workload"), r.table());
    }

    private static Sample agentSample(String config, double online, double jar, double jvm, int copied) {
        return new Sample(config, 0, true, online, 1, Double.NaN, 0.02, 1000, 1 << 20,
                Map.of("agent_jar", jar, "agent_jvm", jvm, "agent_jvm_cds", jvm + 0.5, "agent_jvm_plain", jvm + 1, "agent_copied", (double) copied,
                        "agent_prestarted", copied == 0 ? 1.0 : 0.0, "agent_rss_mib", 300.0), null);
    }

    private static Sample sample(String config, double online) {
        return new Sample(config, 0, true, online, 1, online + 5, 0.05, 1000, 8 << 20, Map.of("ssh", online - 1), null);
    }
}
