package io.jenkins.plugins.qemu.engine.cloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AgentNamingTest {
    private static final String JENKINS_UNSAFE = "?*/\\%!@#$^&|<>[]:;";

    @Test
    void nodeNameIsCloudAndVmId() {
        assertEquals("qemu-qa-0123456789", AgentNaming.nodeName("qemu", "qa-0123456789"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"my cloud", "a/b:c", "  ", "...", "x(1)", "tab\there", "very-long-cloud-name-that-goes-on-and-on-and-on-forever"})
    void nodeNamesAreAlwaysValidJenkinsNames(String cloud) {
        String vmId = VmSpec.newVmId();
        String name = AgentNaming.nodeName(cloud, vmId);
        assertTrue(name.endsWith(vmId), name);
        assertTrue(name.length() <= AgentNaming.MAX_CLOUD_PART + 1 + vmId.length(), name);
        for (char c : name.toCharArray()) {
            assertTrue(JENKINS_UNSAFE.indexOf(c) < 0 && !Character.isWhitespace(c) && !Character.isISOControl(c), name);
        }
        assertTrue(!name.startsWith("-") && !name.startsWith(".") && !name.endsWith("."), name);
    }

    @Test
    void ownerIdFitsTheEngineRule() {
        String owner = AgentNaming.ownerId("3F2A5B7C9D1E0F2A3B4C5D6E7F8A9B0C");
        assertEquals("jenkins-3f2a5b7c9d1e0f2a3b4c5d6e7f8a9b0c", owner);
        assertTrue(owner.matches("[A-Za-z0-9._-]{1,64}"));
        assertTrue(AgentNaming.ownerId("x".repeat(200)).length() <= 64);
        assertThrows(IllegalArgumentException.class, () -> AgentNaming.ownerId("!!!"));
    }

    @Test
    void demandIsRoundedUpToWholeVms() {
        assertEquals(0, Demand.vmsFor(0, 1));
        assertEquals(5, Demand.vmsFor(5, 1));
        assertEquals(3, Demand.vmsFor(5, 2));
        assertEquals(1, Demand.vmsFor(1, 4));
        assertEquals(2, Demand.vmsFor(2, 0));
    }
}
