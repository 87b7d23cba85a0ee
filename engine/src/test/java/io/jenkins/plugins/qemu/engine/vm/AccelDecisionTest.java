package io.jenkins.plugins.qemu.engine.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AccelDecisionTest {
    @AfterEach
    void clear() {
        System.clearProperty(AccelDecision.THREAD_PROPERTY);
    }

    @Test
    void tcgRunsTheVcpusInOneThreadUnlessAskedOtherwise() {
        AccelDecision tcg = new AccelDecision(Accel.TCG, "test");
        assertEquals(List.of("-accel", "tcg,tb-size=64,thread=single"), tcg.qemuArgs());

        System.setProperty(AccelDecision.THREAD_PROPERTY, "multi");
        assertEquals(List.of("-accel", "tcg,tb-size=64,thread=multi"), tcg.qemuArgs());

        assertEquals(List.of("-accel", "kvm", "-cpu", "host"), new AccelDecision(Accel.KVM, "test").qemuArgs(),
                "KVM runs each vCPU in a thread of its own, as the hardware does");
    }

    @Test
    void anUnknownThreadModeIsRefusedNamingThePropertyAndTheValue() {
        System.setProperty(AccelDecision.THREAD_PROPERTY, "many");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new AccelDecision(Accel.TCG, "test").qemuArgs());
        assertTrue(e.getMessage().contains("qemu-agents.tcg.thread") && e.getMessage().contains("'many'"), e.getMessage());
    }
}
