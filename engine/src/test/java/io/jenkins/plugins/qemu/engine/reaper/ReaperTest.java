package io.jenkins.plugins.qemu.engine.reaper;

import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.alive;
import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.deadOwner;
import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.idleQemu;
import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.kill;
import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.liveOwner;
import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.record;
import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.stat;
import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.vmFiles;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.state.VmDir;
import io.jenkins.plugins.qemu.engine.reaper.ReapReport.Outcome;
import io.jenkins.plugins.qemu.engine.reaper.ReapReport.ProcessOutcome;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.state.OwnerIdentity;
import io.jenkins.plugins.qemu.engine.state.ProcFs;
import io.jenkins.plugins.qemu.engine.state.ProcessStat;
import io.jenkins.plugins.qemu.engine.state.StateStore;
import io.jenkins.plugins.qemu.engine.state.VmRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The reaper's decisions, one situation at a time, against real processes where it matters:
 * owners alive or gone, records with and without files, folders without records, max age,
 * "no longer wanted", dry runs, and idle QEMUs that are (or only look like) ours.
 */
class ReaperTest {
    private static final String OWNER = "reaper-test";
    private Path stateDir;
    private EngineConfig config;

    @BeforeEach
    void setUp() throws Exception {
        stateDir = Files.createTempDirectory(Path.of("/tmp"), "qa-rp-");
        config = ReaperFixtures.config(stateDir, OWNER);
    }

    @AfterEach
    void tearDown() throws Exception {
        FileTree.delete(stateDir);
    }

    private Reaper reaper() {
        return new Reaper(config, new ProcFs(), Clock.systemUTC(), null, Duration.ZERO, Duration.ofSeconds(2));
    }

    @Test
    void statIsParsedAfterTheLastParenthesisSoHostileCommandNamesCannotShiftFields() {
        StringBuilder rest = new StringBuilder();
        for (int field = 4; field <= 52; field++) {
            rest.append(' ').append(field == 22 ? "987654" : Integer.toString(field));
        }
        ProcessStat s = ProcessStat.parse(42, "42 (evil) 1 2 (x) Z) S" + rest);
        assertEquals(987654, s.startTime());
        assertEquals('S', s.state());
        assertFalse(s.zombie());
        assertThrows(IllegalArgumentException.class, () -> ProcessStat.parse(1, "garbage"));
    }

    @Test
    void procFsReadsFromAnInjectedRoot() throws Exception {
        Path fake = Files.createDirectories(stateDir.resolve("fakeproc/77"));
        Files.writeString(fake.resolve("stat"), "77 (a b) Z 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 555 20 21");
        Files.write(fake.resolve("cmdline"), "qemu\0-name\0qa-x,process=qemu-qa-x\0".getBytes());
        ProcFs proc = new ProcFs(stateDir.resolve("fakeproc"));
        assertEquals(555, proc.stat(77).orElseThrow().startTime());
        assertTrue(proc.stat(77).orElseThrow().zombie());
        assertEquals(List.of("qemu", "-name", "qa-x,process=qemu-qa-x"), proc.cmdline(77));
        assertTrue(ProcessProof.namesVm(proc.cmdline(77), "qa-x"));
        assertFalse(ProcessProof.namesVm(proc.cmdline(77), "qa-"));
        assertTrue(proc.stat(78).isEmpty());
    }

    @Test
    void recordsAreOwnerOnlyAndReplacedAtomically() throws Exception {
        VmRecord r = record(stateDir, "qa-rec", liveOwner(OWNER), 0, 0, Instant.now());
        Path dir = stateDir.resolve("qa-rec");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(StateStore.RECORD))));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        StateStore store = new StateStore(stateDir);
        store.write(r.withQemu(123, 456).withSshPort(2222));
        VmRecord back = store.read(dir).orElseThrow();
        assertEquals(123, back.qemuPid());
        assertEquals(2222, back.sshPort());
        assertEquals(List.of(StateStore.RECORD), Files.list(dir).map(p -> p.getFileName().toString()).toList(), "no temp file left");
    }

    @Test
    void liveOwnersVmsAreKept() throws Exception {
        record(stateDir, "qa-live", liveOwner("someone-else"), 0, 0, Instant.now());
        ReapReport r = reaper().reap(false);
        assertEquals(List.of("qa-live"), r.kept());
        assertTrue(Files.exists(stateDir.resolve("qa-live/state.json")));
    }

    @Test
    void deadOwnersFilesAreRemovedAndSoIsARecordWhoseFilesAreGone() throws Exception {
        record(stateDir, "qa-files", deadOwner(OWNER), 0, 0, Instant.now());
        vmFiles(stateDir.resolve("qa-files"));
        record(stateDir, "qa-bare", deadOwner("other-owner"), 0, 0, Instant.now());
        ReapReport r = reaper().reap(false);
        assertEquals(List.of("qa-bare", "qa-files"), r.reaped());
        assertEquals(List.of(), TestFiles.below(stateDir));
    }

    @Test
    void aDeadOwnersProvenQemuIsKilledAfterTheQmpCheck() throws Exception {
        Path dir = Files.createDirectory(stateDir.resolve("qa-orphan"));
        Process q = idleQemu("qa-orphan", true, dir.resolve("qmp.sock"));
        try {
            record(stateDir, "qa-orphan", deadOwner(OWNER), q.pid(), stat(q.pid()).startTime(), Instant.now());
            ReapReport dry = reaper().reap(true);
            assertEquals(List.of(q.pid()), dry.killedPids(), "a dry run proves the same");
            assertTrue(alive(q.pid()), "but kills nothing");
            assertTrue(Files.exists(dir.resolve("state.json")));

            ReapReport r = reaper().reap(false);
            assertEquals(List.of("qa-orphan"), r.reaped());
            assertEquals(List.of(q.pid()), r.killedPids());
            assertTrue(r.entries().get(0).reason().contains("QMP query-name"), r.format());
            assertTrue(q.waitFor(10, TimeUnit.SECONDS));
            assertFalse(Files.exists(dir));
        } finally {
            kill(q);
        }
    }

    @Test
    void aQemuStartedButNeverRecordedIsProvenByQmpAlone() throws Exception {
        Path dir = Files.createDirectory(stateDir.resolve("qa-unrec"));
        Process q = idleQemu("qa-unrec", true, dir.resolve("qmp.sock"));
        try {
            record(stateDir, "qa-unrec", deadOwner(OWNER), 0, 0, Instant.now());
            ReapReport r = reaper().reap(false);
            assertEquals(List.of(q.pid()), r.killedPids(), r.format());
            assertTrue(q.waitFor(10, TimeUnit.SECONDS));
            assertFalse(Files.exists(dir));
        } finally {
            kill(q);
        }
    }

    @Test
    void maxAgeReapsEvenWhileTheOwnerLives() throws Exception {
        Path dir = Files.createDirectory(stateDir.resolve("qa-aged"));
        Process q = idleQemu("qa-aged", true, dir.resolve("qmp.sock"));
        try {
            record(stateDir, "qa-aged", liveOwner("other"), q.pid(), stat(q.pid()).startTime(), Instant.now().minus(Duration.ofHours(3)));
            record(stateDir, "qa-young", liveOwner("other"), 0, 0, Instant.now());
            ReapReport r = reaper().withMaxAge(Duration.ofHours(2)).reap(false);
            assertEquals(List.of("qa-aged"), r.reaped());
            assertEquals(List.of("qa-young"), r.kept());
            assertEquals(List.of(q.pid()), r.killedPids());
            assertTrue(q.waitFor(10, TimeUnit.SECONDS));
        } finally {
            kill(q);
        }
        assertThrows(InvalidInputException.class, () -> reaper().withMaxAge(Duration.ZERO));
    }

    @Test
    void thePredicateDecidesOnlyAboutOurOwnersVms() throws Exception {
        record(stateDir, "qa-mine", liveOwner(OWNER), 0, 0, Instant.now());
        record(stateDir, "qa-theirs", liveOwner("other"), 0, 0, Instant.now());
        ReapReport r = reaper().reap(false, id -> false);
        assertEquals(List.of("qa-mine"), r.reaped());
        assertEquals(List.of("qa-theirs"), r.kept());
        // A predicate that throws keeps the VM: when in doubt, do not destroy.
        record(stateDir, "qa-mine2", liveOwner(OWNER), 0, 0, Instant.now());
        assertEquals(List.of("qa-mine2", "qa-theirs"), reaper().reap(false, id -> {
            throw new IllegalStateException("boom");
        }).kept());
    }

    /**
     * Issue 14, point 7: a second live process under the same owner id (a controller started from
     * a copy of the same JENKINS_HOME) must not reap the first one's VMs as "unwanted": only the
     * incarnation that made a VM may say it no longer wants it.
     */
    @Test
    void anotherLiveProcessWithOurOwnerIdIsNotAskedAboutItsVms() throws Exception {
        Process twin = new ProcessBuilder("sleep", "60").start();
        try {
            ProcessStat st = ReaperFixtures.stat(twin.pid());
            OwnerIdentity twinOwner = new OwnerIdentity(OWNER, twin.pid(), st.startTime(), new ProcFs().bootId());
            record(stateDir, "qa-twins", twinOwner, 0, 0, Instant.now());
            record(stateDir, "qa-mine", liveOwner(OWNER), 0, 0, Instant.now());
            ReapReport r = reaper().reap(false, id -> false);
            assertEquals(List.of("qa-mine"), r.reaped());
            assertEquals(List.of("qa-twins"), r.kept());
        } finally {
            ReaperFixtures.kill(twin);
        }
        // Once that process is gone, its VMs are a dead owner's and go.
        assertEquals(List.of("qa-twins"), reaper().reap(false, id -> true).reaped());
    }

    @Test
    void foldersWithoutRecordsAreRemovedOnlyWhenOldAndOnlyIfTheyHoldNothingButVmFiles() throws Exception {
        Path young = Files.createDirectory(stateDir.resolve("qa-young"));
        Path old = Files.createDirectory(stateDir.resolve("qa-old"));
        vmFiles(old);
        Path alien = Files.createDirectory(stateDir.resolve("someones-data"));
        Files.writeString(alien.resolve("thesis.tex"), "precious");
        Path corrupt = Files.createDirectory(stateDir.resolve("qa-corrupt"));
        Files.writeString(corrupt.resolve("state.json"), "{not json");
        Instant past = Instant.now().minus(Duration.ofMinutes(10));
        for (Path d : List.of(old, alien, corrupt)) {
            try (var s = Files.list(d)) {
                for (Path f : (Iterable<Path>) s::iterator) {
                    Files.setLastModifiedTime(f, FileTime.from(past));
                }
            }
            Files.setLastModifiedTime(d, FileTime.from(past));
        }
        Reaper reaper = new Reaper(config, new ProcFs(), Clock.systemUTC(), null, Duration.ofMinutes(2), Duration.ofSeconds(2));
        ReapReport r = reaper.reap(false);
        assertEquals(List.of("qa-corrupt", "qa-old"), r.reaped(), r.format());
        assertEquals(List.of("qa-young"), r.kept());
        assertTrue(Files.exists(young));
        assertTrue(Files.exists(alien.resolve("thesis.tex")), "a folder that is not a VM's is never touched");
    }

    @Test
    void aRecordCannotMakeTheReaperDeleteAnythingOutsideTheVmFolder() throws Exception {
        Path victim = Files.writeString(Files.createTempFile(Path.of("/tmp"), "qa-victim", ".txt"), "keep me");
        try {
            OwnerIdentity dead = deadOwner(OWNER);
            FileTree.newOwnerOnlyDirectory(stateDir.resolve("qa-liar"));
            new StateStore(stateDir).write(new VmRecord(1, "qa-liar", OWNER, dead.pid(), dead.startTime(), dead.bootId(), 0, 0,
                    victim.toString(), victim.toString(), victim.toString(), victim.toString(), -1, Instant.now().toString()));
            assertEquals(List.of("qa-liar"), reaper().reap(false).reaped());
            assertTrue(Files.exists(victim));
        } finally {
            Files.deleteIfExists(victim);
        }
    }

    @Test
    void aRecordFromAnEarlierHostBootNeverLeadsToAKill() throws Exception {
        Process sleeper = new ProcessBuilder("sleep", "300").start();
        try {
            OwnerIdentity oldBoot = new OwnerIdentity(OWNER, 1, 1, "another-boot");
            FileTree.ownerOnlyDirectories(stateDir);
            FileTree.newOwnerOnlyDirectory(stateDir.resolve("qa-reboot"));
            // Even with pid and start time matching a live process today.
            new StateStore(stateDir).write(VmRecord.create("qa-reboot", oldBoot, stateDir.resolve("qa-reboot/qmp.sock"),
                    stateDir.resolve("x"), stateDir.resolve("y"), stateDir.resolve("z"), Instant.now())
                    .withQemu(sleeper.pid(), stat(sleeper.pid()).startTime()));
            ReapReport r = reaper().reap(false);
            assertEquals(List.of("qa-reboot"), r.reaped());
            assertEquals(ProcessOutcome.GONE, r.entries().get(0).process());
            assertTrue(sleeper.isAlive());
        } finally {
            kill(sleeper);
        }
    }

    @Test
    void aDeadOwnersNetworkHelperIsKilledOnlyWithProofOfItsSocket() throws Exception {
        // Stand-ins for passt: command lines naming a socket with --socket, as passt's does.
        // `read` is a bash builtin, so killing bash leaves no child behind.
        record(stateDir, "qa-helper", deadOwner(OWNER), 0, 0, Instant.now());
        Path socket = stateDir.resolve("qa-helper").resolve(VmDir.NET_SOCKET);
        Process ours = new ProcessBuilder("bash", "-c", "read -t 300 || exit", "passt", "--socket", socket.toString()).start();
        // Another VM's helper, and a process that only mentions our socket without serving it.
        Process other = new ProcessBuilder("bash", "-c", "read -t 300 || exit", "passt", "--socket",
                stateDir.resolve("qa-other").resolve(VmDir.NET_SOCKET).toString()).start();
        Process mentions = new ProcessBuilder("bash", "-c", "read -t 300 || exit", "cat", socket.toString()).start();
        try {
            ReapReport dry = reaper().reap(true);
            assertEquals(List.of("qa-helper"), dry.reaped());
            assertTrue(ours.isAlive(), "a dry run kills nothing");
            ReapReport r = reaper().reap(false);
            assertEquals(List.of("qa-helper"), r.reaped());
            assertTrue(r.entries().get(0).reason().contains("killed network helper pid " + ours.pid()), r.entries().get(0).reason());
            assertTrue(ours.waitFor(10, TimeUnit.SECONDS), "the helper serving the VM's socket is killed");
            assertTrue(other.isAlive(), "another VM's helper is not touched");
            assertTrue(mentions.isAlive(), "naming the socket is not serving it");
            assertFalse(Files.exists(stateDir.resolve("qa-helper")));
        } finally {
            kill(ours);
            kill(other);
            kill(mentions);
        }
    }

    @Test
    void periodicReapingRunsOnTheGivenSchedulerUntilClosed() throws Exception {
        record(stateDir, "qa-periodic", deadOwner(OWNER), 0, 0, Instant.now());
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        CountDownLatch passes = new CountDownLatch(2);
        try (PeriodicReaper p = new PeriodicReaper(reaper(), scheduler, Duration.ofMillis(50), id -> true, r -> passes.countDown())) {
            assertTrue(passes.await(10, TimeUnit.SECONDS));
        } finally {
            scheduler.shutdownNow();
        }
        assertFalse(Files.exists(stateDir.resolve("qa-periodic")));
        assertEquals(Outcome.REAPED, Outcome.valueOf("REAPED"));
    }
}
