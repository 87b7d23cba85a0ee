package io.jenkins.plugins.qemu.engine.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.jenkins.plugins.qemu.engine.usage.NicCounters;
import org.junit.jupiter.api.Test;

/** The reading of the guest's answer, and no reading without the VM's kept connection. */
class GuestNicCountersTest {
    @Test
    void theAnswerIsTwoCountsOrNothing() {
        assertEquals(new NicCounters.Totals(1234, 56), GuestNicCounters.parse("1234 56\n"));
        assertNull(GuestNicCounters.parse(""));
        assertNull(GuestNicCounters.parse("1234"));
        assertNull(GuestNicCounters.parse("-1 5"));
        assertNull(GuestNicCounters.parse("sh: 1: read: error"));
    }

    @Test
    void withoutTheKeptConnectionNothingIsRead() {
        assertNull(new GuestNicCounters(() -> null).read());
    }
}
