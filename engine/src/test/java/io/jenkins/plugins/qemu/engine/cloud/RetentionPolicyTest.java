package io.jenkins.plugins.qemu.engine.cloud;

import static io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy.Decision.KEEP;
import static io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy.Decision.RECONNECT;
import static io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy.Decision.TERMINATE_DONE;
import static io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy.Decision.TERMINATE_IDLE;
import static io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy.Decision.TERMINATE_LAUNCH_STUCK;
import static io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy.Decision.TERMINATE_MARKED_OFFLINE;
import static io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy.Decision.TERMINATE_UNREACHABLE;
import static io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy.Decision.TERMINATE_UNUSED;
import static io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy.Decision.TERMINATE_VM_GONE;
import static io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy.Link.CONNECTED;
import static io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy.Link.CONNECTING;
import static io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy.Link.DISCONNECTED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy.Decision;
import io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy.Link;
import io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy.TaskEnd;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The retention decision as a table: agent link state × VM state × executors × marks × time →
 * action. Times are in seconds; {@code policy} is the template's idle minutes (0 = one-shot).
 */
class RetentionPolicyTest {
    private static final RetentionPolicy ONE_SHOT = RetentionPolicy.of(0);
    private static final RetentionPolicy IDLE_10 = RetentionPolicy.of(10);

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
        # case                                              |idle|vm   |link        |inLink|fails|marked|busy|usedUp|idleFor|expected
        VM gone ends the agent whatever else holds          | 0  |false|CONNECTED   | 0    | 0   | 0    | 1  |false | 0     |TERMINATE_VM_GONE
        VM gone while connecting                            | 10 |false|CONNECTING  | 5    | 0   | 0    | 0  |false | 0     |TERMINATE_VM_GONE
        a launch in progress is kept                        | 0  |true |CONNECTING  | 120  | 0   | 0    | 0  |false | 7200  |KEEP
        a launch past the timeout is stuck                  | 0  |true |CONNECTING  | 301  | 0   | 0    | 0  |false | 0     |TERMINATE_LAUNCH_STUCK
        a stuck launch, reusable template too               | 10 |true |CONNECTING  | 900  | 1   | 0    | 0  |false | 0     |TERMINATE_LAUNCH_STUCK
        point 1: busy agent marked offline by an admin is kept    | 0  |true |CONNECTED   | 600  | 0   | 3600 | 1  |false | 0     |KEEP
        point 1: busy agent marked offline, reusable              | 10 |true |CONNECTED   | 600  | 0   | 3600 | 1  |false | 0     |KEEP
        point 1: a lost channel is reconnected                    | 0  |true |DISCONNECTED| 10   | 0   | 0    | 0  |false | 0     |RECONNECT
        point 1: second try after one failed launch               | 0  |true |DISCONNECTED| 10   | 1   | 0    | 0  |false | 0     |RECONNECT
        point 1: marked offline and disconnected: reconnect       | 10 |true |DISCONNECTED| 10   | 0   | 600  | 0  |false | 0     |RECONNECT
        point 10: two failed launches give the VM up at once      | 0  |true |DISCONNECTED| 1    | 2   | 0    | 0  |false | 0     |TERMINATE_UNREACHABLE
        a used-up one-shot agent that lost its channel goes | 0  |true |DISCONNECTED| 1    | 0   | 0    | 0  |true  | 0     |TERMINATE_DONE
        idle marked-offline agent kept within the grace     | 10 |true |CONNECTED   | 600  | 0   | 179  | 0  |false | 60    |KEEP
        idle marked-offline agent goes after the grace      | 10 |true |CONNECTED   | 600  | 0   | 180  | 0  |false | 60    |TERMINATE_MARKED_OFFLINE
        idle marked-offline one-shot agent goes too         | 0  |true |CONNECTED   | 600  | 0   | 181  | 0  |false | 60    |TERMINATE_MARKED_OFFLINE
        point 2: used up with a build left on another executor    | 0  |true |CONNECTED   | 600  | 0   | 0    | 1  |true  | 0     |KEEP
        point 2: used up and all executors idle                   | 0  |true |CONNECTED   | 600  | 0   | 0    | 0  |true  | 0     |TERMINATE_DONE
        busy one-shot agent stays                           | 0  |true |CONNECTED   | 600  | 0   | 0    | 2  |false | 0     |KEEP
        busy reusable agent stays                           | 10 |true |CONNECTED   | 600  | 0   | 0    | 1  |false | 0     |KEEP
        unused one-shot agent within its grace              | 0  |true |CONNECTED   | 600  | 0   | 0    | 0  |false | 540   |KEEP
        unused one-shot agent after its grace               | 0  |true |CONNECTED   | 600  | 0   | 0    | 0  |false | 660   |TERMINATE_UNUSED
        reusable agent idle less than its idle time         | 10 |true |CONNECTED   | 600  | 0   | 0    | 0  |false | 540   |KEEP
        reusable agent idle its idle time                   | 10 |true |CONNECTED   | 600  | 0   | 0    | 0  |false | 600   |TERMINATE_IDLE
        """)
    void decides(String name, int idleMinutes, boolean vmAlive, Link link, long inLink, int fails, long marked, int busy,
            boolean usedUp, long idleFor, Decision expected) {
        RetentionPolicy policy = RetentionPolicy.of(idleMinutes);
        RetentionPolicy.Observation o = new RetentionPolicy.Observation(vmAlive, link, Duration.ofSeconds(inLink), fails,
                Duration.ofSeconds(marked), busy, usedUp, Duration.ofSeconds(idleFor));
        assertEquals(expected, policy.decide(o), name);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
        # case                                         |idle|flyweight|continues|others|expected
        point 2: one-shot, one executor: end now            | 0  |false    |false    | 0    |TERMINATE
        point 2: one-shot, another build still running      | 0  |false    |false    | 1    |DRAIN
        point 2: one-shot, three others still running       | 0  |false    |false    | 3    |DRAIN
        flyweight part of a pipeline uses nothing up   | 0  |true     |false    | 0    |NOTHING
        a node block that resumes uses nothing up      | 0  |false    |true     | 0    |NOTHING
        reusable agents stay                           | 10 |false    |false    | 0    |NOTHING
        """)
    void taskEnds(String name, int idleMinutes, boolean flyweight, boolean continues, int others, TaskEnd expected) {
        assertEquals(expected, RetentionPolicy.of(idleMinutes).onTaskEnd(flyweight, continues, others), name);
    }

    @Test
    void aWarmPoolMemberWaitsIdleButStillGoesWhenItsVmDiesOrItIsMarkedOfflineForLong() {
        Duration hours = Duration.ofHours(5);
        assertEquals(KEEP, ONE_SHOT.decide(new RetentionPolicy.Observation(true, CONNECTED, hours, 0, Duration.ZERO, 0, false, hours, true)));
        assertEquals(TERMINATE_UNUSED, ONE_SHOT.decide(new RetentionPolicy.Observation(true, CONNECTED, hours, 0, Duration.ZERO, 0, false, hours, false)));
        assertEquals(KEEP, RetentionPolicy.of(10).decide(new RetentionPolicy.Observation(true, CONNECTED, hours, 0, Duration.ZERO, 0, false, hours, true)));
        assertEquals(Decision.TERMINATE_VM_GONE, ONE_SHOT.decide(new RetentionPolicy.Observation(false, CONNECTED, hours, 0, Duration.ZERO, 0, false, hours, true)));
        assertEquals(Decision.TERMINATE_MARKED_OFFLINE, ONE_SHOT.decide(new RetentionPolicy.Observation(true, CONNECTED, hours, 0,
                Duration.ofMinutes(4), 0, false, hours, true)));
    }

    @Test
    void theLaunchTimeoutIsTheTemplates() {
        RetentionPolicy quick = new RetentionPolicy(0, Duration.ofSeconds(30));
        RetentionPolicy.Observation connecting = new RetentionPolicy.Observation(true, CONNECTING, Duration.ofSeconds(31), 0,
                Duration.ZERO, 0, false, Duration.ZERO);
        assertEquals(TERMINATE_LAUNCH_STUCK, quick.decide(connecting));
        assertEquals(KEEP, ONE_SHOT.decide(connecting));
        assertThrows(IllegalArgumentException.class, () -> new RetentionPolicy(0, Duration.ZERO));
    }

    @Test
    void reasonsAreForPeople() {
        assertNull(KEEP.reason());
        assertNull(RECONNECT.reason());
        assertFalse(KEEP.terminates());
        assertFalse(RECONNECT.terminates());
        for (Decision d : Decision.values()) {
            if (d != KEEP && d != RECONNECT) {
                assertTrue(d.terminates(), d.name());
                assertFalse(d.reason().isBlank(), d.name());
            }
        }
        assertTrue(TERMINATE_VM_GONE.reason().contains("VM is gone"));
        assertTrue(TERMINATE_UNREACHABLE.reason().startsWith(RetentionPolicy.MAX_FAILED_LAUNCHES + " launches"));
        assertTrue(TERMINATE_DONE.reason().contains("build is over"));
        assertTrue(TERMINATE_UNUSED.reason().contains("10 minutes"));
        assertTrue(TERMINATE_MARKED_OFFLINE.reason().contains("marked offline"));
        assertTrue(TERMINATE_IDLE.reason().contains("idle"));
    }

    @Test
    void describesItself() {
        assertEquals("one-shot", ONE_SHOT.toString());
        assertEquals("idle 10m", IDLE_10.toString());
        assertThrows(InvalidInputException.class, () -> RetentionPolicy.of(-3));
        assertEquals(CONNECTED, Link.valueOf("CONNECTED"));
        assertEquals(DISCONNECTED, Link.valueOf("DISCONNECTED"));
    }
}
