package io.jenkins.plugins.qemu.engine.cloud;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The phase line of issue 17: each phase measured from the one before, nothing invented when a time is unknown. */
class BuildPhasesTest {
    private static final Instant T = Instant.parse("2026-12-03T07:00:00Z");

    private static Instant at(double seconds) {
        return T.plusMillis((long) (seconds * 1000));
    }

    @Test
    void aVmBootedForTheBuildShowsEveryPhaseFromTheOneBefore() {
        BuildPhases p = new BuildPhases(at(0), at(0.4), at(9.0), at(12.5), at(12.9), "warm restore");
        assertEquals("job #3 on VM qa-1: queued until the boot began 0.4 s, VM online +8.6 s (warm restore),"
                + " agent connected +3.5 s, build started +0.4 s; 12.9 s from queue to start", p.line("job #3", "qa-1"));
    }

    @Test
    void anIdleAgentReusedHasNoBootInThisBuildsWait() {
        BuildPhases p = new BuildPhases(at(100), at(0), at(9), at(12), at(101.5), "cold boot");
        assertEquals("job #4 on VM qa-1: the VM was already up (a warm-pool member or an idle agent), build started 1.5 s after it was queued",
                p.line("job #4", "qa-1"));
    }

    @Test
    void aVmFromBeforeARestartHasNoBootTimes() {
        assertEquals("job #7 on VM qa-1: the VM is from before a controller restart, build started 24.5 s after it was queued",
                new BuildPhases(at(0), null, null, at(20), at(24.5), null).line("job #7", "qa-1"));
    }

    @Test
    void unknownTimesAreLeftOutNotGuessed() {
        assertEquals("job #5 started on VM qa-1", new BuildPhases(null, at(0), at(1), at(2), at(3), null).line("job #5", "qa-1"));
        BuildPhases noConnect = new BuildPhases(at(0), at(1), at(5), null, at(6), null);
        assertEquals("job #6 on VM qa-1: queued until the boot began 1.0 s, VM online +4.0 s, build started +1.0 s;"
                + " 6.0 s from queue to start", noConnect.line("job #6", "qa-1"));
    }

    @Test
    void aPipelinesLineEndsWithItsFirstStepInTheNodeBlock() {
        BuildPhases p = new BuildPhases(at(0), at(0.4), at(9.0), at(12.5), at(12.9), "warm restore");
        assertEquals("job #3 on VM qa-1: queued until the boot began 0.4 s, VM online +8.6 s (warm restore),"
                + " agent connected +3.5 s, build started +0.4 s; 12.9 s from queue to start;"
                + " first step +1.6 s, 14.5 s from queue to first step", p.line("job #3", "qa-1", at(14.5)));
        assertEquals("job #5 started on VM qa-1, first step +0.5 s",
                new BuildPhases(null, at(0), at(1), at(2), at(3), null).line("job #5", "qa-1", at(3.5)));
        assertEquals(p.line("job #3", "qa-1"), p.line("job #3", "qa-1", null));
    }
}
