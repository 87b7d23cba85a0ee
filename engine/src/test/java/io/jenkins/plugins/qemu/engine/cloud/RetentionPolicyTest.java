package io.jenkins.plugins.qemu.engine.cloud;

import static io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy.Decision.KEEP;
import static io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy.Decision.TERMINATE_IDLE;
import static io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy.Decision.TERMINATE_OFFLINE;
import static io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy.Decision.TERMINATE_UNUSED;
import static io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy.Decision.TERMINATE_VM_GONE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RetentionPolicyTest {
    private static final RetentionPolicy ONE_SHOT = RetentionPolicy.of(0);
    private static final RetentionPolicy IDLE_10 = RetentionPolicy.of(10);

    private static RetentionPolicy.Observation online(boolean idle, Duration idleFor) {
        return new RetentionPolicy.Observation(true, false, true, idle, idleFor, Duration.ZERO);
    }

    @Test
    void aDeadVmEndsTheAgentWhateverElseHolds() {
        RetentionPolicy.Observation dead = new RetentionPolicy.Observation(false, true, true, false, Duration.ZERO, Duration.ZERO);
        assertEquals(TERMINATE_VM_GONE, ONE_SHOT.decide(dead));
        assertEquals(TERMINATE_VM_GONE, IDLE_10.decide(dead));
        assertTrue(TERMINATE_VM_GONE.terminates());
        assertTrue(TERMINATE_VM_GONE.reason().contains("VM is gone"));
    }

    @Test
    void aLaunchInProgressIsNeverInterrupted() {
        // Idle for ages (executors count as idle while connecting) but still connecting: keep.
        RetentionPolicy.Observation connecting = new RetentionPolicy.Observation(true, true, false, true, Duration.ofHours(2), Duration.ZERO);
        assertEquals(KEEP, ONE_SHOT.decide(connecting));
        assertEquals(KEEP, IDLE_10.decide(connecting));
    }

    @Test
    void offlineAgentsGetAGracePeriod() {
        RetentionPolicy.Observation shortly = new RetentionPolicy.Observation(true, false, false, true, Duration.ZERO, Duration.ofMinutes(1));
        RetentionPolicy.Observation long_ = new RetentionPolicy.Observation(true, false, false, true, Duration.ZERO, Duration.ofMinutes(4));
        assertEquals(KEEP, ONE_SHOT.decide(shortly));
        assertEquals(TERMINATE_OFFLINE, ONE_SHOT.decide(long_));
        assertEquals(TERMINATE_OFFLINE, IDLE_10.decide(long_));
    }

    @Test
    void busyAgentsStay() {
        assertEquals(KEEP, ONE_SHOT.decide(online(false, Duration.ofHours(5))));
        assertEquals(KEEP, IDLE_10.decide(online(false, Duration.ofHours(5))));
    }

    @Test
    void oneShotAgentsThatNeverGetTheirBuildAreGivenUp() {
        assertEquals(KEEP, ONE_SHOT.decide(online(true, Duration.ofMinutes(9))));
        assertEquals(TERMINATE_UNUSED, ONE_SHOT.decide(online(true, Duration.ofMinutes(11))));
    }

    @Test
    void idleAgentsGoAfterTheirIdleTime() {
        assertEquals(KEEP, IDLE_10.decide(online(true, Duration.ofMinutes(9))));
        assertEquals(TERMINATE_IDLE, IDLE_10.decide(online(true, Duration.ofMinutes(10))));
        assertNull(KEEP.reason());
        assertFalse(KEEP.terminates());
    }

    @Test
    void onlyRealTasksUseUpAOneShotAgent() {
        assertTrue(ONE_SHOT.endsWithTask(false, false));
        assertFalse(ONE_SHOT.endsWithTask(true, false), "flyweight task");
        assertFalse(ONE_SHOT.endsWithTask(false, true), "node block that resumes");
        assertFalse(IDLE_10.endsWithTask(false, false), "idle retention keeps the agent");
    }

    @Test
    void describesItself() {
        assertEquals("one-shot", ONE_SHOT.toString());
        assertEquals("idle 10m", IDLE_10.toString());
        assertThrows(InvalidInputException.class, () -> RetentionPolicy.of(-3));
    }
}
