package io.jenkins.plugins.qemu.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.state.VmRecord;
import io.jenkins.plugins.qemu.engine.usage.VmUsage;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code ps}'s pure parts: the phase a record and its process say, the age and the table. */
class PsCommandTest {
    private static VmRecord record(long qemuPid, int port, boolean released) {
        return new VmRecord(2, "qa-1", "o", 1, 1, "b", qemuPid, 5, "q", "ov", "s", "c", port, "2026-12-03T12:00:00Z",
                0, 0, 0, "debian-12", "jenkins", released ? 60 : 0, released ? "2026-12-03T13:00:00Z" : null, released);
    }

    @Test
    void phaseSaysWhatTheRecordAndTheProcessProve() {
        assertEquals("preparing", PsCommand.phase(record(0, -1, false), false));
        assertEquals("starting", PsCommand.phase(record(9, -1, false), true));
        assertEquals("running", PsCommand.phase(record(9, 2222, false), true));
        assertEquals("released", PsCommand.phase(record(9, 2222, true), true));
        assertEquals("exited", PsCommand.phase(record(9, 2222, false), false));
    }

    @Test
    void ageIsShortAndExact() {
        assertEquals("42s", PsCommand.age(Duration.ofSeconds(42)));
        assertEquals("3m05s", PsCommand.age(Duration.ofSeconds(185)));
        assertEquals("2h01m", PsCommand.age(Duration.ofSeconds(7265)));
        assertEquals("0s", PsCommand.age(Duration.ofSeconds(-3)), "a clock step back is no negative age");
    }

    @Test
    void tableHasOneLinePerVmAndDashesWhereQemuDoesNotRun() {
        VmUsage u = new VmUsage(Instant.EPOCH, 1_500_000_000L, 0, 2_000_000_000L, 300L << 20, 310L << 20, -1, 50L << 20, -1,
                170L << 20, 470L << 20, 17L << 20, 3L << 20);
        String t = PsCommand.format(List.of(
                new PsCommand.Row("qa-1", Duration.ofSeconds(70), "debian-12", "linux+big", "running", 34567, "test-1", u),
                new PsCommand.Row("qa-2", Duration.ofSeconds(5), "?", "-", "exited", -1, "cli-9 (gone)", null)));
        List<String> lines = t.lines().toList();
        assertEquals(3, lines.size(), t);
        assertTrue(lines.get(0).matches("VM +AGE +IMAGE +TEMPLATE +PHASE +PORT +OWNER +VCPU +QEMU-CPU +RSS +PEAK-RSS +OVERLAY"
                + " +GUEST-MEM +GUEST-PEAK +NET-IN +NET-OUT"), t);
        assertTrue(lines.get(1).matches("qa-1 +1m10s +debian-12 +linux\\+big +running +34567 +test-1 +1\\.5s +2\\.0s +300M +310M +50M"
                + " +170M +470M +17M +3M"), t);
        assertTrue(lines.get(2).matches("qa-2 +5s +\\? +- +exited +- +cli-9 \\(gone\\) +- +- +- +- +- +- +- +- +-"), t);
        assertEquals("no VMs\n", PsCommand.format(List.of()));
    }

    @Test
    void aLongOwnerIdOrTemplateWidensItsColumnAndShiftsNoOther() {
        String owner = "jenkins-6929f2d6a1b2c3d4e5f60718293a4b5c-4ec72a3e";
        String t = PsCommand.format(List.of(
                new PsCommand.Row("qa-1", Duration.ofSeconds(80), "debian-12", "debian-12", "running", 32905, owner, null),
                new PsCommand.Row("qa-2", Duration.ofSeconds(5), "debian-12", "linux+big+a-very-long-template-name", "starting", -1,
                        "cli-9", null)));
        List<String> lines = t.lines().toList();
        // Each column starts at the same offset on every line: the header's words line up with the cells.
        for (String column : List.of("IMAGE", "TEMPLATE", "PHASE", "OWNER")) {
            int at = lines.get(0).indexOf(column);
            for (String line : lines.subList(1, 3)) {
                assertTrue(at > 0 && line.charAt(at - 1) == ' ' && line.charAt(at) != ' ', column + " misaligned:\n" + t);
            }
        }
        int port = lines.get(0).indexOf("PORT") + "PORT".length();
        assertEquals("32905", lines.get(1).substring(port - 5, port), "numbers are aligned right:\n" + t);
        assertTrue(lines.get(1).contains(" " + owner + " "), t);
    }
}
