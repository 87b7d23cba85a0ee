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

    private static Sample sample(String config, double online) {
        return new Sample(config, 0, true, online, 1, online + 5, 0.05, 1000, 8 << 20, Map.of("ssh", online - 1), null);
    }
}
