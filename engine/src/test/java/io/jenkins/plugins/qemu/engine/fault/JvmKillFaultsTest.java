package io.jenkins.plugins.qemu.engine.fault;

import static io.jenkins.plugins.qemu.engine.testing.TestImages.IMAGE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jenkins.plugins.qemu.engine.QemuEngine;
import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.reaper.ReapReport;
import io.jenkins.plugins.qemu.engine.state.ProcFs;
import io.jenkins.plugins.qemu.engine.state.StateStore;
import io.jenkins.plugins.qemu.engine.state.VmRecord;
import io.jenkins.plugins.qemu.engine.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The engine's JVM is SIGKILLed mid-boot (no shutdown hook, no finally runs), then an engine is
 * started again on the same state directory. With the parent-death signal QEMU dies with the JVM
 * and the restart only removes files; without it QEMU is orphaned and the restart's reaper must
 * prove it is ours and kill it. The JVM is a real child: the CLI's {@code run} with a long boot.
 */
@ExtendWith(FaultReportExtension.class)
class JvmKillFaultsTest {
    private final ProcFs proc = new ProcFs();

    @Test
    void jvmKilledMidBootTakesQemuWithItAndTheRestartReapsTheFiles(FaultReport report) throws Exception {
        killJvmMidBootThenRestart(report, true);
    }

    @Test
    void jvmKilledMidBootWithoutParentDeathSignalLeavesAnOrphanTheRestartKills(FaultReport report) throws Exception {
        killJvmMidBootThenRestart(report, false);
    }

    private void killJvmMidBootThenRestart(FaultReport report, boolean pdeathsig) throws Exception {
        String fault = "engine JVM SIGKILLed mid-boot, then restarted (" + (pdeathsig ? "with" : "without") + " parent-death signal)";
        Path stateDir = TestImages.shortTempDir();
        Path log = Files.createTempFile(Path.of("/tmp"), "qa-child-", ".log");
        Process jvm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-D" + QemuEngine.PDEATHSIG_PROPERTY + "=" + pdeathsig,
                "-cp", System.getProperty("java.class.path"),
                "io.jenkins.plugins.qemu.engine.cli.Main", "run", "--image", IMAGE,
                "--images-dir", TestImages.imagesDir().toString(), "--state-dir", stateDir.toString(), "--timeout", "10m", "--", "true")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        VmRecord record = null;
        try {
            record = awaitQemuBooting(jvm, stateDir, log);
            long qemu = record.qemuPid();
            // setpriv exec'd into QEMU: the recorded pid is QEMU's, a child of the JVM.
            assertTrue(proc.cmdline(qemu).get(0).endsWith("qemu-system-x86_64"), proc.cmdline(qemu).toString());
            assertEquals(Optional.of(jvm.pid()), ProcessHandle.of(qemu).flatMap(ProcessHandle::parent).map(ProcessHandle::pid));

            jvm.destroyForcibly(); // SIGKILL
            jvm.waitFor();
            report.injected(fault);

            if (pdeathsig) {
                assertTrue(awaitGone(qemu, Duration.ofSeconds(10)), "QEMU died with its JVM");
            } else {
                Thread.sleep(2000);
                assertTrue(alive(qemu), "without the signal QEMU outlives its JVM: the reaper's case");
            }
            assertTrue(Files.exists(stateDir.resolve(record.vmId()).resolve(StateStore.RECORD)), "the dead JVM left its record");

            ReapReport reap;
            try (QemuEngine restarted = new QemuEngine(TestImages.config(stateDir))) {
                reap = restarted.startupReap();
            }
            assertEquals(List.of(record.vmId()), reap.reaped(), reap.format());
            assertEquals(pdeathsig ? List.of() : List.of(qemu), reap.killedPids(), reap.format());
            assertTrue(awaitGone(qemu, Duration.ofSeconds(10)));
            report.assertNothingLeft(fault, record.vmId(), stateDir, record.sshPort());
        } finally {
            jvm.destroyForcibly();
            if (record != null && alive(record.qemuPid()) && proc.cmdline(record.qemuPid()).toString().contains(record.vmId())) {
                FaultFixtures.killOwn(record.qemuPid());
            }
            FileTree.delete(stateDir);
            Files.deleteIfExists(log);
        }
    }

    /** The child's VM once QEMU runs and the guest prints: its record, read as the reaper would. */
    private static VmRecord awaitQemuBooting(Process jvm, Path stateDir, Path log) throws Exception {
        StateStore store = new StateStore(stateDir);
        Instant deadline = Instant.now().plus(Duration.ofMinutes(3));
        while (Instant.now().isBefore(deadline)) {
            if (!jvm.isAlive()) {
                fail("the child JVM ended early:\n" + Files.readString(log));
            }
            for (Path dir : store.vmDirs()) {
                Optional<VmRecord> r = store.read(dir);
                if (r.isPresent() && r.get().qemuPid() > 0 && r.get().sshPort() > 0 && Files.exists(dir.resolve("console.log"))
                        && Files.size(dir.resolve("console.log")) > 0) {
                    return r.get();
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the child's QEMU did not start:\n" + Files.readString(log));
    }

    private boolean alive(long pid) {
        return proc.stat(pid).map(s -> !s.zombie()).orElse(false);
    }

    private boolean awaitGone(long pid, Duration d) throws InterruptedException {
        Instant deadline = Instant.now().plus(d);
        while (alive(pid)) {
            if (Instant.now().isAfter(deadline)) {
                return false;
            }
            Thread.sleep(50);
        }
        return true;
    }
}
