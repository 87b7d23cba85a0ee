package io.jenkins.plugins.qemu.engine.warm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.QemuEngine;
import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.testing.TestImages;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Issue 14, point 5: a warm-snapshot boot is a whole VM, so the cloud books it like one. When the
 * gate has no room, no VM is booted and the build is not counted as a failed attempt.
 */
class SnapshotBuildGateTest {
    @Test
    void aRefusedSnapshotBootBootsNothingAndIsNotAFailure() throws Exception {
        Path stateDir = TestImages.shortTempDir();
        AtomicInteger asked = new AtomicInteger();
        try (QemuEngine engine = new QemuEngine(TestImages.config(stateDir), prep -> {
            asked.incrementAndGet();
            return Optional.empty();
        })) {
            var spec = TestImages.guestSpec().warmStart(true).build();
            for (int i = 0; i < 4; i++) {
                IOException e = assertThrows(IOException.class, () -> engine.prepareWarmSnapshot(spec));
                assertTrue(e.getMessage().contains("does not fit the cloud's cap or budget"), e.getMessage());
            }
            assertEquals(4, asked.get(), "asked again each time: a refusal is no failed attempt that could start a cool-down");
            assertEquals(List.of(), engine.vms());
            assertEquals(List.of(), TestImages.processesMentioning(stateDir.toString()));
        } finally {
            FileTree.delete(stateDir);
        }
    }
}
