package io.jenkins.plugins.qemu.engine.cloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CloudValidationTest {

    @ParameterizedTest
    @ValueSource(strings = {"a||b", "!linux", "x:y", "linux;rm", "a/b", ".", "..", "trailing.", "(x)", "a=b", "q\"", "ta\u0001b"})
    void rejectsLabelsThatNeedQuoting(String label) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> CloudValidation.labels("labels", label));
        assertEquals("labels", e.field());
    }

    @Test
    void acceptsOrdinaryLabels() {
        assertEquals("debian-12 linux x86_64 jdk+17 v1.2", CloudValidation.labels("labels", " debian-12\tlinux\nx86_64 jdk+17 v1.2 "));
        assertEquals("", CloudValidation.labels("labels", null));
    }

    @Test
    void cloudNames() {
        assertEquals("qemu", CloudValidation.cloudName("name", " qemu "));
        assertEquals("local qemu", CloudValidation.cloudName("name", "local qemu"));
        assertEquals("name", assertThrows(InvalidInputException.class, () -> CloudValidation.cloudName("name", "")).field());
        assertThrows(InvalidInputException.class, () -> CloudValidation.cloudName("name", "a/b"));
        assertThrows(InvalidInputException.class, () -> CloudValidation.cloudName("name", ".."));
    }

    @Test
    void budgetsAllowZeroForNoLimit() {
        assertEquals(0, CloudValidation.hostCpus("hostCpus", 0));
        assertEquals(0, CloudValidation.hostMemoryMiB("hostMemory", " "));
        assertEquals(64 * 1024, CloudValidation.hostMemoryMiB("hostMemory", "64G"));
        assertThrows(InvalidInputException.class, () -> CloudValidation.hostCpus("hostCpus", -1));
        assertThrows(InvalidInputException.class, () -> CloudValidation.hostMemoryMiB("hostMemory", "12 apples"));
        assertThrows(InvalidInputException.class, () -> CloudValidation.instanceCap("instanceCap", 0));
        assertEquals(1000, CloudValidation.instanceCap("instanceCap", 1000));
    }

    @Test
    void aRestartLeaseIsTwoMinutesToADay() {
        assertEquals(2, CloudValidation.restartLeaseMinutes("restartLeaseMinutes", 2));
        assertEquals(1440, CloudValidation.restartLeaseMinutes("restartLeaseMinutes", 1440));
        for (int bad : new int[] {0, 1, 1441, -5}) {
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> CloudValidation.restartLeaseMinutes("restartLeaseMinutes", bad));
            assertEquals("restartLeaseMinutes: '" + bad + "' is out of range: use 2 to 1440 minutes (default 10)", e.getMessage());
        }
        TemplateSpec t = TemplateSpec.builder().labels("debian-12").image("debian-12").build();
        assertEquals(java.time.Duration.ofMinutes(30), t.toAgentVmSpec("qa-1", java.time.Duration.ofMinutes(30)).lease());
        assertEquals(TemplateSpec.AGENT_LEASE, t.toAgentVmSpec("qa-1").lease());
    }

    @Test
    void directoriesAreOptionalButAbsolute() {
        assertNull(CloudValidation.directory("imagesDir", ""));
        assertEquals("/var/lib/qemu-agents/images", CloudValidation.directory("imagesDir", " /var/lib/qemu-agents/images "));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> CloudValidation.directory("stateDir", "state"));
        assertEquals("stateDir", e.field());
        assertTrue(e.getMessage().contains("absolute"), e.getMessage());
    }

    @Test
    void sizesAreShownHumanly() {
        assertEquals("1G", CloudValidation.human(1024));
        assertEquals("16T", CloudValidation.human(16L * 1024 * 1024));
        assertEquals("1500M", CloudValidation.human(1500));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> CloudValidation.diskSizeMiB("diskSize", "512M"));
        assertTrue(e.getMessage().contains("use 1G to 16T"), e.getMessage());
    }
}
