package io.jenkins.plugins.qemu.engine.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The guest stress test compares what a guest JVM prints with what the host JVM computes, which is
 * only a check if the workload's line depends on its arguments alone, not on thread timing.
 */
class JvmStressWorkloadTest {
    @Test
    void theResultLineIsTheSameOnEveryRunAndReportsNoMismatch() throws Exception {
        String first = JvmStressWorkload.run(400, 4000, 20);
        assertEquals(first, JvmStressWorkload.run(400, 4000, 20));
        assertTrue(first.matches("RESULT [0-9a-f]{16} mismatches=0 errors=0 cas=true classes=true"), first);
    }

    @Test
    void theResultDependsOnTheWork() throws Exception {
        assertTrue(!JvmStressWorkload.run(400, 4000, 20).equals(JvmStressWorkload.run(401, 4000, 20)));
    }
}
