package io.jenkins.plugins.qemu.engine.cloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The warm pool's decisions (issue 17): refill, replace stale members, shrink, and yield to waiting builds. */
class WarmPoolTest {
    /**
     * members: the template versions of the idle members, e.g. "v2 v1" (v2 is current); destroy:
     * the members (by position) that go.
     */
    @ParameterizedTest(name = "size {0}, members [{1}], {2} booting, {3} waiting -> boot {4}, destroy [{5}]")
    @CsvSource(delimiter = '|', value = {
        "0 | ''       | 0 | 0 | 0 | ''",         // no pool
        "0 | v2 v2    | 0 | 0 | 0 | 0 1",        // pool switched off: members go
        "2 | ''       | 0 | 0 | 2 | ''",          // empty pool fills
        "2 | v2       | 0 | 0 | 1 | ''",          // one taken by a build: replaced
        "2 | v2       | 1 | 0 | 0 | ''",          // its replacement is already booting
        "2 | v2 v2    | 0 | 0 | 0 | ''",          // full
        "2 | v1 v2    | 0 | 0 | 1 | 0",           // template changed: the old member goes and is replaced
        "1 | v2 v2    | 0 | 0 | 0 | 1",           // pool made smaller
        "2 | ''       | 0 | 3 | 0 | ''",          // builds wait: the provisioner boots for them, not the pool
        "2 | v1       | 0 | 3 | 0 | 0",           // ... but stale members still go
        "3 | v2       | 2 | 0 | 0 | ''",
    })
    void plan(int size, String members, int booting, int waiting, int toBoot, String destroy) {
        List<WarmPool.Member> list = new ArrayList<>();
        String[] versions = members.isBlank() ? new String[0] : members.trim().split(" +");
        for (int i = 0; i < versions.length; i++) {
            list.add(new WarmPool.Member(String.valueOf(i), versions[i]));
        }
        WarmPool.Plan plan = WarmPool.plan(size, "v2", list, booting, waiting);
        assertEquals(toBoot, plan.toBoot());
        assertEquals(destroy.isBlank() ? List.of() : Arrays.asList(destroy.trim().split(" +")), plan.toDestroy());
    }

    @Test
    void sizeIsBoundedAndTheErrorNamesFieldAndValue() {
        assertEquals(0, WarmPool.size("warmPool", 0));
        assertEquals(16, WarmPool.size("warmPool", 16));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> WarmPool.size("warmPool", 17));
        assertTrue(e.getMessage().contains("warmPool") && e.getMessage().contains("17"), e.getMessage());
        assertThrows(InvalidInputException.class, () -> WarmPool.size("warmPool", -1));
    }
}
