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

    /** Keep-on-failure, 30 minutes: what ends a task, by build outcome. */
    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
        # case                                              |idle|keep|continues|others|outcome      |expected
        a failed freestyle build's VM is kept               | 0  | 30 |false    | 0    |FAILED       |KEEP_FAILED
        a successful build's VM goes as usual               | 0  | 30 |false    | 0    |SUCCEEDED    |TERMINATE
        a pipeline's node block: wait for the result        | 0  | 30 |false    | 0    |NOT_YET_KNOWN|AWAIT_OUTCOME
        keep off: a failed build's VM goes                  | 0  | 0  |false    | 0    |FAILED       |TERMINATE
        keep off: nobody waits for a pipeline's result      | 0  | 0  |false    | 0    |NOT_YET_KNOWN|TERMINATE
        a shared agent drains, it is never kept             | 0  | 30 |false    | 1    |FAILED       |DRAIN
        a node block that resumes keeps nothing             | 0  | 30 |true     | 0    |FAILED       |NOTHING
        a reusable agent stays in any case                  | 10 | 30 |false    | 0    |FAILED       |NOTHING
        """)
    void keepsAFailedBuildsVm(String name, int idleMinutes, int keep, boolean continues, int others, RetentionPolicy.Outcome outcome,
            TaskEnd expected) {
        RetentionPolicy policy = new RetentionPolicy(idleMinutes, RetentionPolicy.DEFAULT_LAUNCH_TIMEOUT, Duration.ofMinutes(keep));
        assertEquals(expected, policy.onTaskEnd(false, continues, others, outcome), name);
    }

    /** Keep-on-failure, 30 minutes: a kept or waiting agent is held whatever its link or marks, until its time is over. */
    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
        # case                                              |vm   |link        |marked|awaiting|kept |expected
        kept, within its time                               |true |CONNECTED   | 0    | 0      | 1799|KEEP
        kept, its time is over                              |true |CONNECTED   | 0    | 0      | 1800|TERMINATE_KEPT_OVER
        kept and marked offline by a monitor: still kept    |true |CONNECTED   | 3600 | 0      | 60  |KEEP
        kept with its channel gone: no reconnect, kept      |true |DISCONNECTED| 0    | 0      | 60  |KEEP
        kept but its VM died                                |false|CONNECTED   | 0    | 0      | 60  |TERMINATE_VM_GONE
        waiting for the pipeline's result                   |true |CONNECTED   | 0    | 600    | 0   |KEEP
        the pipeline did not end within the keep time       |true |CONNECTED   | 0    | 1800   | 0   |TERMINATE_OUTCOME_LATE
        neither: a used-up agent goes                       |true |CONNECTED   | 0    | 0      | 0   |TERMINATE_DONE
        """)
    void holdsAKeptAgentForItsTime(String name, boolean vmAlive, Link link, long marked, long awaiting, long kept, Decision expected) {
        RetentionPolicy policy = new RetentionPolicy(0, RetentionPolicy.DEFAULT_LAUNCH_TIMEOUT, Duration.ofMinutes(30));
        RetentionPolicy.Observation o = new RetentionPolicy.Observation(vmAlive, link, Duration.ofSeconds(5), 0, Duration.ofSeconds(marked),
                0, true, Duration.ofSeconds(60), false, Duration.ofSeconds(awaiting), Duration.ofSeconds(kept));
        assertEquals(expected, policy.decide(o), name);
    }

    @Test
    void theKeepTimeIsBounded() {
        assertEquals("keepFailedMinutes", assertThrows(InvalidInputException.class,
                () -> new RetentionPolicy(0, RetentionPolicy.DEFAULT_LAUNCH_TIMEOUT, Duration.ofMinutes(-1))).field());
        assertEquals("keepFailedMinutes", assertThrows(InvalidInputException.class,
                () -> new RetentionPolicy(0, RetentionPolicy.DEFAULT_LAUNCH_TIMEOUT, Duration.ofHours(25))).field());
        assertEquals("one-shot, failed kept 30m", new RetentionPolicy(0, RetentionPolicy.DEFAULT_LAUNCH_TIMEOUT, Duration.ofMinutes(30)).toString());
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
