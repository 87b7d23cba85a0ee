package io.jenkins.plugins.qemu.engine.reaper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.state.OwnerIdentity;
import io.jenkins.plugins.qemu.engine.state.VmRecord;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** What a lease decides, on records alone: kept for adoption or reaped, and who may adopt. */
class LeaseVerdictTest {
    private static final Instant NOW = Instant.parse("2026-12-03T07:00:00Z");
    private static final String BOOT = "boot-a";
    private static final OwnerIdentity OLD = new OwnerIdentity("ctl", 100, 5000, BOOT, 1_000);
    private static final OwnerIdentity NEW = new OwnerIdentity("ctl", 200, 9000, BOOT, 2_000);

    private static VmRecord record(OwnerIdentity owner, String leaseUntil, long leaseSeconds, String bootId) {
        Path d = Path.of("/tmp/x/qa-1");
        VmRecord r = VmRecord.create("qa-1", new OwnerIdentity(owner.ownerId(), owner.pid(), owner.startTime(), bootId, owner.jvmStart()),
                d.resolve("qmp.sock"), d.resolve("o"), d.resolve("s"), d.resolve("c"), NOW.minusSeconds(3600))
                .withQemu(4242, 77).withSshPort(40022).withGuest("debian-12", "jenkins", null);
        if (leaseSeconds == 0) {
            return r;
        }
        return new VmRecord(r.schema(), r.vmId(), r.ownerId(), r.ownerPid(), r.ownerStartTime(), r.bootId(), r.qemuPid(),
                r.qemuStartTime(), r.qmpSocket(), r.overlay(), r.seed(), r.console(), r.sshPort(), r.createdAt(), 0, 0,
                r.ownerJvmStart(), r.image(), r.user(), leaseSeconds, leaseUntil, false);
    }

    @ParameterizedTest(name = "lease {1} s until {0}, boot {2}: {3}")
    @CsvSource(nullValues = "null", value = {
            // leaseUntil,           seconds, boot,     kept?, reason contains
            "null,                   0,       boot-a,   false, ''",
            "2026-12-03T07:05:00Z,   600,     boot-a,   true,  ''",
            "2026-12-03T07:00:00Z,   600,     boot-a,   false, ended unclaimed at 2026-12-03T07:00:00Z",
            "2026-12-03T06:00:00Z,   600,     boot-a,   false, ended unclaimed",
            "2026-12-03T07:05:00Z,   600,     boot-b,   false, earlier host boot",
            "not-a-time,             600,     boot-a,   false, unreadable time 'not-a-time'",
    })
    void aDeadOwnersVmIsKeptOnlyWhileItsLeaseRunsInThisHostBoot(String until, long seconds, String boot, boolean kept, String why) {
        String verdict = LeaseVerdict.ofDeadOwner(record(OLD, until, seconds, boot), NOW, BOOT);
        if (kept) {
            assertNull(verdict);
        } else {
            assertTrue(verdict != null && verdict.contains(why), verdict);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(nullValues = "null", value = {
            "adoptable,                     ctl,   2026-12-03T07:05:00Z, 600, null",
            "another owner id,              other, 2026-12-03T07:05:00Z, 600, belongs to owner id 'other'",
            "no lease,                      ctl,   null,                 0,   started without a lease",
            "lease over,                    ctl,   2026-12-03T06:59:59Z, 600, ended unclaimed",
    })
    void whoMayAdopt(String situation, String recordOwner, String until, long seconds, String refusal) {
        VmRecord r = record(OLD.as(recordOwner), until, seconds, BOOT);
        String got = LeaseVerdict.refusal(r, "qa-1", NEW, NOW, BOOT);
        if (refusal == null) {
            assertNull(got, situation);
        } else {
            assertTrue(got != null && got.contains(refusal), situation + ": " + got);
        }
    }

    @Test
    void theSameIncarnationNeverAdoptsItsOwnVmAndAnUnfinishedBootIsNotAdoptable() {
        VmRecord mine = record(NEW, "2026-12-03T07:05:00Z", 600, BOOT);
        assertTrue(LeaseVerdict.refusal(mine, "qa-1", NEW, NOW, BOOT).contains("owns it already"));
        // Unless it let the VM go (its engine closed leaving it running): a restart inside the same JVM adopts it.
        assertNull(LeaseVerdict.refusal(mine.withReleased(), "qa-1", NEW, NOW, BOOT));
        assertFalse(mine.withReleased().withOwner(NEW).released(), "taking a VM over ends its released state");
        VmRecord unfinished = record(OLD, "2026-12-03T07:05:00Z", 600, BOOT).withSshPort(-1);
        assertTrue(LeaseVerdict.refusal(unfinished, "qa-1", NEW, NOW, BOOT).contains("boot never finished"));
        assertTrue(LeaseVerdict.refusal(mine, "qa-2", NEW, NOW, BOOT).contains("names another VM"));
    }

    @Test
    void aSchemaOneRecordReadsAsAVmWithoutALease(@org.junit.jupiter.api.io.TempDir Path stateDir) throws Exception {
        Path dir = java.nio.file.Files.createDirectory(stateDir.resolve("qa-old"));
        java.nio.file.Files.writeString(dir.resolve("state.json"), "{\"schema\":1,\"vmId\":\"qa-old\",\"ownerId\":\"ctl\",\"ownerPid\":100,"
                + "\"ownerStartTime\":5000,\"bootId\":\"boot-a\",\"qemuPid\":4242,\"qemuStartTime\":77,\"qmpSocket\":\"q\","
                + "\"overlay\":\"o\",\"seed\":\"s\",\"console\":\"c\",\"sshPort\":40022,\"createdAt\":\"2026-12-03T06:00:00Z\"}");
        VmRecord old = new io.jenkins.plugins.qemu.engine.state.StateStore(stateDir).read(dir).orElseThrow();
        assertFalse(old.leased());
        assertFalse(old.released());
        assertNull(old.leaseEnd());
        assertEquals(0, old.ownerJvmStart());
        assertEquals("", LeaseVerdict.ofDeadOwner(old, NOW, BOOT), "a dead owner's VM without a lease goes as before");
        assertTrue(LeaseVerdict.refusal(old, "qa-old", NEW, NOW, BOOT).contains("without a lease"));
    }

    @Test
    void aSafeRestartIsANewIncarnationOfTheSameProcess() {
        // Same pid and process start time (exec keeps both), another JVM start: the earlier image is gone.
        OwnerIdentity before = new OwnerIdentity("ctl", 300, 7000, BOOT, 1_000);
        OwnerIdentity after = new OwnerIdentity("ctl", 300, 7000, BOOT, 5_000);
        assertFalse(before.sameIncarnation(after));
        assertFalse(before.isAlive(new io.jenkins.plugins.qemu.engine.state.ProcFs(), BOOT, after));
        assertTrue(after.isAlive(new io.jenkins.plugins.qemu.engine.state.ProcFs(), BOOT, after));
        // Records written before the JVM start was recorded cannot tell, and count as the same.
        assertTrue(new OwnerIdentity("ctl", 300, 7000, BOOT).sameIncarnation(after));
        assertEquals(Duration.ofSeconds(600), record(OLD, "2026-12-03T07:05:00Z", 600, BOOT).lease());
    }
}
