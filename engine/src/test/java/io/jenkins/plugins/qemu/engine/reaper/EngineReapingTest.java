package io.jenkins.plugins.qemu.engine.reaper;

import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.deadOwner;
import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.record;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.QemuEngine;
import io.jenkins.plugins.qemu.engine.config.FileTree;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The engine reaps at start and, when asked, periodically on its one housekeeping thread. */
class EngineReapingTest {

    @Test
    void startupAndPeriodicReaping() throws Exception {
        Path stateDir = Files.createTempDirectory(Path.of("/tmp"), "qa-er-");
        try {
            record(stateDir, "qa-before", deadOwner("old"), 0, 0, Instant.now());
            try (QemuEngine engine = new QemuEngine(ReaperFixtures.config(stateDir, "engine-test"))) {
                assertEquals(List.of("qa-before"), engine.startupReap().reaped());
                assertTrue(engine.parentDeathSignal(), "setpriv --pdeathsig is available on this host");

                record(stateDir, "qa-later", deadOwner("old"), 0, 0, Instant.now());
                record(stateDir, "qa-unwanted", ReaperFixtures.liveOwner("engine-test"), 0, 0, Instant.now());
                try (PeriodicReaper p = engine.reapPeriodically(Duration.ofMillis(100), id -> !id.equals("qa-unwanted"))) {
                    Instant deadline = Instant.now().plusSeconds(20);
                    while ((Files.exists(stateDir.resolve("qa-later")) || Files.exists(stateDir.resolve("qa-unwanted")))
                            && Instant.now().isBefore(deadline)) {
                        Thread.sleep(50);
                    }
                }
                assertFalse(Files.exists(stateDir.resolve("qa-later")));
                assertFalse(Files.exists(stateDir.resolve("qa-unwanted")));
            }
        } finally {
            FileTree.delete(stateDir);
        }
    }
}
