package io.jenkins.plugins.qemu.engine.fault;

import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.deadOwner;
import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.idleQemu;
import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.kill;
import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.record;
import static io.jenkins.plugins.qemu.engine.reaper.ReaperFixtures.stat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.QemuEngine;
import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.reaper.ReapReport;
import io.jenkins.plugins.qemu.engine.reaper.ReapReport.Entry;
import io.jenkins.plugins.qemu.engine.reaper.ReapReport.Outcome;
import io.jenkins.plugins.qemu.engine.reaper.ReapReport.ProcessOutcome;
import io.jenkins.plugins.qemu.engine.reaper.Reaper;
import io.jenkins.plugins.qemu.engine.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Records that point at processes which are not ours: a foreign QEMU, a QEMU whose command line
 * names our VM but whose QMP socket answers with another name, a pid recycled by an unrelated
 * process. The reaper must leave every one of them running, say so in its log, and still kill a
 * genuine orphan of ours in the same pass (so survival is not just a reaper that did nothing).
 */
@ExtendWith(FaultReportExtension.class)
class ForeignProcessFaultsTest {
    private static final Logger REAPER_LOG = Logger.getLogger(Reaper.class.getName());
    private final List<String> log = Collections.synchronizedList(new ArrayList<>());
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            log.add(r.getMessage());
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };
    private Path stateDir;
    private Path outside;
    private final long me = ProcessHandle.current().pid();

    @BeforeEach
    void setUp() throws Exception {
        stateDir = TestImages.shortTempDir();
        outside = Files.createTempDirectory(Path.of("/tmp"), "qa-foreign-");
        REAPER_LOG.addHandler(capture);
    }

    @AfterEach
    void tearDown() throws Exception {
        REAPER_LOG.removeHandler(capture);
        FileTree.delete(stateDir);
        FileTree.delete(outside);
    }

    @Test
    void aForeignQemuBesideOursSurvivesTheReaperAtEngineStart(FaultReport report) throws Exception {
        Process foreign = null;
        Process decoy = null;
        Process ours = null;
        try {
            foreign = idleQemu("someone-elses-vm", false, outside.resolve("foreign.sock"));
            String decoyId = "qa-decoy" + me;
            decoy = idleQemu(decoyId, true, outside.resolve("decoy.sock"));
            String oursId = "qa-orphan" + me;
            Files.createDirectory(stateDir.resolve(oursId));
            ours = idleQemu(oursId, true, stateDir.resolve(oursId).resolve("qmp.sock"));

            // A record (of a dead owner) that claims the foreign QEMU, with its true start time.
            record(stateDir, "qa-claims" + me, deadOwner("old"), foreign.pid(), stat(foreign.pid()).startTime(), Instant.now());
            // A QEMU whose command line names our VM, but whose socket in our folder answers for another VM.
            record(stateDir, decoyId, deadOwner("old"), decoy.pid(), stat(decoy.pid()).startTime(), Instant.now());
            Files.createSymbolicLink(stateDir.resolve(decoyId).resolve("qmp.sock"), outside.resolve("foreign.sock"));
            // And one genuine orphan of ours.
            record(stateDir, oursId, deadOwner("old"), ours.pid(), stat(ours.pid()).startTime(), Instant.now());
            report.injected("foreign QEMU processes beside ours (claimed by a record; command line faked)");

            ReapReport r;
            try (QemuEngine engine = new QemuEngine(TestImages.config(stateDir))) {
                r = engine.startupReap();
            }
            report.assertForeignSurvived("foreign QEMU", foreign);
            report.assertForeignSurvived("QEMU answering QMP for another VM", decoy);
            assertEquals(List.of(ours.pid()), r.killedPids(), r.format());
            assertTrue(ours.waitFor(10, TimeUnit.SECONDS), "our orphan was killed");

            Entry claims = entry(r, "qa-claims" + me);
            assertEquals(ProcessOutcome.NOT_OURS, claims.process());
            assertEquals(Outcome.REAPED, claims.outcome(), "the false record itself is removed");
            Entry d = entry(r, decoyId);
            assertEquals(ProcessOutcome.NOT_OURS, d.process());
            assertEquals(Outcome.SKIPPED, d.outcome(), "a process naming our VM may use its files: they stay");
            assertTrue(d.reason().contains("QMP query-name says 'someone-elses-vm'"), d.reason());
            long foreignPid = foreign.pid();
            assertTrue(log.stream().anyMatch(m -> m.contains("skipped: pid " + foreignPid + " is not ours")), log.toString());
            assertTrue(log.stream().anyMatch(m -> m.contains("reaped") && m.contains(oursId)), log.toString());

            // The decoy's folder is the fixture the reaper rightly refused to touch; it is the test's to remove.
            assertTrue(Files.exists(stateDir.resolve(decoyId).resolve("state.json")));
            FileTree.delete(stateDir.resolve(decoyId));
            report.assertNothingLeft("foreign QEMU beside ours", "qa-claims" + me, stateDir, -1);
            report.assertNothingLeft("foreign QEMU beside ours (our orphan)", oursId, stateDir, -1);
        } finally {
            kill(foreign);
            kill(decoy);
            kill(ours);
        }
    }

    @Test
    void aRecycledPidSurvives(FaultReport report) throws Exception {
        Process sleeper = new ProcessBuilder("sleep", "600").start();
        try {
            long start = stat(sleeper.pid()).startTime();
            // Our QEMU once had this pid; it died and the kernel gave the pid to an unrelated process.
            record(stateDir, "qa-recycled", deadOwner("old"), sleeper.pid(), start - 100, Instant.now());
            // Same pid and start time, but not a QEMU of ours at all.
            record(stateDir, "qa-notqemu", deadOwner("old"), sleeper.pid(), start, Instant.now());
            report.injected("recycled pid (and a record naming a live non-QEMU process)");

            ReapReport r = new Reaper(TestImages.config(stateDir)).reap(false, id -> true);
            report.assertForeignSurvived("recycled pid", sleeper);
            assertEquals(List.of(), r.killedPids(), r.format());
            assertEquals(ProcessOutcome.PID_REUSED, entry(r, "qa-recycled").process());
            assertEquals(ProcessOutcome.NOT_OURS, entry(r, "qa-notqemu").process());
            assertEquals(List.of("qa-notqemu", "qa-recycled"), r.reaped(), "the stale records are removed, the process is not touched");
            assertTrue(log.stream().anyMatch(m -> m.contains("skipped: pid " + sleeper.pid() + " reused")), log.toString());
            report.assertNothingLeft("recycled pid", "qa-recycled", stateDir, -1);
            report.assertNothingLeft("recycled pid", "qa-notqemu", stateDir, -1);
        } finally {
            kill(sleeper);
        }
    }

    private static Entry entry(ReapReport r, String vmId) {
        return r.entries().stream().filter(e -> e.vmId().equals(vmId)).findFirst()
                .orElseThrow(() -> new AssertionError(vmId + " not in\n" + r.format()));
    }
}
