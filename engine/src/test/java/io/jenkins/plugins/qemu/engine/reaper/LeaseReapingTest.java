package io.jenkins.plugins.qemu.engine.reaper;

import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.alive;
import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.deadOwner;
import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.idleQemu;
import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.kill;
import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.liveOwner;
import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.record;
import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.stat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.reaper.ReapReport.Outcome;
import io.jenkins.plugins.qemu.engine.state.StateStore;
import io.jenkins.plugins.qemu.engine.state.VmRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Leased VMs of dead owners against a real (idle, {@code -machine none}) QEMU: kept while the
 * lease runs, by every reaper; adoptable only by the same owner id; reaped with the usual
 * ownership proof once the lease ended unclaimed, with the reason in the report.
 */
class LeaseReapingTest {
    private static final String OWNER = "lease-test";
    private Path stateDir;

    @BeforeEach
    void setUp() throws Exception {
        stateDir = Files.createTempDirectory(Path.of("/tmp"), "qa-ls-");
    }

    @AfterEach
    void tearDown() throws Exception {
        FileTree.delete(stateDir);
    }

    @Test
    void aLeasedVmOutlivesItsOwnerUntilTheLeaseEndsThenIsReapedWithProof() throws Exception {
        Path dir = Files.createDirectory(stateDir.resolve("qa-leased"));
        Process q = idleQemu("qa-leased", true, dir.resolve("qmp.sock"));
        try {
            StateStore store = new StateStore(stateDir);
            VmRecord r = record(stateDir, "qa-leased", deadOwner(OWNER), q.pid(), stat(q.pid()).startTime(), Instant.now())
                    .withSshPort(40022).withGuest("debian-12", "jenkins", null);
            store.write(r.withLease(Duration.ofMinutes(10), Instant.now().plus(Duration.ofMinutes(10))));

            for (String owner : List.of(OWNER, "someone-else")) {
                ReapReport kept = new Reaper(ReaperFixtures.config(stateDir, owner), liveOwner(owner)).reap(false);
                assertEquals(List.of(), kept.reaped(), kept.format());
                assertEquals(Outcome.KEPT, kept.entries().get(0).outcome(), kept.format());
                assertTrue(kept.entries().get(0).reason().contains("lease runs until"), kept.format());
                assertTrue(alive(q.pid()));
            }

            IOException foreign = assertThrows(IOException.class, () -> new Reaper(ReaperFixtures.config(stateDir, "someone-else"))
                    .proveAdoptable("qa-leased", liveOwner("someone-else")));
            assertTrue(foreign.getMessage().contains("belongs to owner id '" + OWNER + "'"), foreign.getMessage());
            VmRecord proven = new Reaper(ReaperFixtures.config(stateDir, OWNER)).proveAdoptable("qa-leased", liveOwner(OWNER));
            assertEquals(q.pid(), proven.qemuPid());
            assertTrue(alive(q.pid()), "a proof touches nothing");

            store.write(r.withLease(Duration.ofMinutes(10), Instant.now().minusSeconds(1)));
            IOException over = assertThrows(IOException.class, () -> new Reaper(ReaperFixtures.config(stateDir, OWNER))
                    .proveAdoptable("qa-leased", liveOwner(OWNER)));
            assertTrue(over.getMessage().contains("ended unclaimed"), over.getMessage());

            ReapReport reaped = new Reaper(ReaperFixtures.config(stateDir, OWNER), liveOwner(OWNER)).reap(false);
            assertEquals(List.of("qa-leased"), reaped.reaped(), reaped.format());
            assertEquals(List.of(q.pid()), reaped.killedPids(), reaped.format());
            String why = reaped.entries().get(0).reason();
            assertTrue(why.contains("lease ended unclaimed") && why.contains("QMP query-name"), why);
            assertTrue(q.waitFor(10, TimeUnit.SECONDS));
            assertFalse(Files.exists(dir));
        } finally {
            kill(q);
        }
    }

    @Test
    void aVmItsLiveOwnerReleasedIsKeptForTheLeaseAndAdoptableInTheSameJvm() throws Exception {
        Path dir = Files.createDirectory(stateDir.resolve("qa-released"));
        Process q = idleQemu("qa-released", true, dir.resolve("qmp.sock"));
        try {
            VmRecord r = record(stateDir, "qa-released", liveOwner(OWNER), q.pid(), stat(q.pid()).startTime(), Instant.now())
                    .withSshPort(40022).withGuest("debian-12", "jenkins", null).withLease(Duration.ofMinutes(10), Instant.now().plusSeconds(600));
            new StateStore(stateDir).write(r);
            IOException own = assertThrows(IOException.class, () -> new Reaper(ReaperFixtures.config(stateDir, OWNER))
                    .proveAdoptable("qa-released", liveOwner(OWNER)));
            assertTrue(own.getMessage().contains("owns it already"), own.getMessage());

            // A controller restarted inside the same JVM (a test harness): the closing engine released the VM.
            new StateStore(stateDir).write(r.withReleased());
            ReapReport kept = new Reaper(ReaperFixtures.config(stateDir, OWNER), liveOwner(OWNER)).reap(false, id -> false);
            assertEquals(Outcome.KEPT, kept.entries().get(0).outcome(), kept.format());
            assertTrue(kept.entries().get(0).reason().contains("let it go"), kept.format());
            assertEquals(q.pid(), new Reaper(ReaperFixtures.config(stateDir, OWNER)).proveAdoptable("qa-released", liveOwner(OWNER)).qemuPid());
            assertTrue(alive(q.pid()));
        } finally {
            kill(q);
        }
    }

    @Test
    void aVmWithoutALeaseIsNotAdoptableAndGoesWithItsOwnerAsBefore() throws Exception {
        record(stateDir, "qa-plain", deadOwner(OWNER), 0, 0, Instant.now());
        IOException e = assertThrows(IOException.class, () -> new Reaper(ReaperFixtures.config(stateDir, OWNER))
                .proveAdoptable("qa-plain", liveOwner(OWNER)));
        assertTrue(e.getMessage().contains("without a lease"), e.getMessage());
        ReapReport r = new Reaper(ReaperFixtures.config(stateDir, OWNER), liveOwner(OWNER)).reap(false);
        assertEquals(List.of("qa-plain"), r.reaped(), r.format());
    }
}
