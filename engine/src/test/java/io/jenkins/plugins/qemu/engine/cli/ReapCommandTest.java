package io.jenkins.plugins.qemu.engine.cli;

import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.deadOwner;
import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.idleQemu;
import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.kill;
import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.liveOwner;
import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.record;
import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.stat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.FileTree;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code qemu-agents reap}: a dry run reports without touching, a real run kills only what it proved ours. */
class ReapCommandTest {
    private Path stateDir;

    @BeforeEach
    void setUp() throws Exception {
        stateDir = Files.createTempDirectory(Path.of("/tmp"), "qa-cli-reap-");
    }

    @AfterEach
    void tearDown() throws Exception {
        FileTree.delete(stateDir);
    }

    private String[] run(int expectedExit, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String o = out.toString(StandardCharsets.UTF_8);
        String e = err.toString(StandardCharsets.UTF_8);
        assertEquals(expectedExit, rc, o + e);
        return new String[] {o, e};
    }

    @Test
    void dryRunThenRealRun() throws Exception {
        Path dir = Files.createDirectory(stateDir.resolve("qa-cliorphan"));
        Process q = idleQemu("qa-cliorphan", true, dir.resolve("qmp.sock"));
        try {
            record(stateDir, "qa-cliorphan", deadOwner("gone"), q.pid(), stat(q.pid()).startTime(), Instant.now());
            record(stateDir, "qa-clilive", liveOwner("alive"), 0, 0, Instant.now());

            String out = run(0, "reap", "--dry-run", "--state-dir", stateDir.toString())[0];
            assertTrue(out.contains("dry run: nothing was changed"), out);
            assertTrue(out.contains("qa-cliorphan") && out.contains("killed " + q.pid()), out);
            assertTrue(q.isAlive());
            assertTrue(Files.exists(dir.resolve("state.json")));

            out = run(0, "reap", "--state-dir", stateDir.toString())[0];
            assertTrue(out.contains("2 VM folders: 1 reaped, 1 kept, 0 skipped; 1 processes killed"), out);
            assertTrue(q.waitFor(10, TimeUnit.SECONDS));
            assertFalse(Files.exists(dir));
            assertTrue(Files.exists(stateDir.resolve("qa-clilive/state.json")), "a live owner's VM is kept");
        } finally {
            kill(q);
        }
    }

    @Test
    void maxAgeReapsOldVmsOfLiveOwners() throws Exception {
        record(stateDir, "qa-cliold", liveOwner("alive"), 0, 0, Instant.now().minus(Duration.ofHours(5)));
        String out = run(0, "reap", "--state-dir", stateDir.toString(), "--max-age", "1h")[0];
        assertTrue(out.contains("older than the maximum age"), out);
        assertFalse(Files.exists(stateDir.resolve("qa-cliold")));
    }
}
