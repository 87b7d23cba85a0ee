package io.jenkins.plugins.qemu.engine.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Issue 14 (restarts): which systemd service the controller runs in, and whether its restart would kill the leased VMs. */
class ServiceUnitTest {
    @Test
    void theServiceIsReadFromCgroupV2AndV1() {
        assertEquals(Optional.of("jenkins.service"), ServiceUnit.unitOf("0::/system.slice/jenkins.service\n"));
        assertEquals(Optional.of("jenkins.service"), ServiceUnit.unitOf(
                "12:pids:/system.slice/jenkins.service\n1:name=systemd:/system.slice/jenkins.service\n"));
        // A user's own service under user@1000.service counts; the user manager itself does not.
        assertEquals(Optional.of("ci.service"), ServiceUnit.unitOf("0::/user.slice/user-1000.slice/user@1000.service/app.slice/ci.service"));
        assertEquals(Optional.empty(), ServiceUnit.unitOf("0::/user.slice/user-1000.slice/user@1000.service/app.slice/tmux.scope"));
        assertEquals(Optional.empty(), ServiceUnit.unitOf("0::/\n"), "a container or a shell: no service");
        assertEquals(Optional.empty(), ServiceUnit.unitOf(""));
    }

    @Test
    void onlyKillModesThatSpareTheVmsGiveNoWarning() {
        for (String mode : new String[] {"control-group", "mixed"}) {
            ServiceUnit u = new ServiceUnit("jenkins.service", mode);
            assertFalse(u.keepsLeasedVms(), mode);
            String w = u.leaseWarning().orElseThrow();
            assertTrue(w.contains("jenkins.service") && w.contains("KillMode=" + mode) && w.contains("KillMode=process"), w);
        }
        assertEquals(Optional.empty(), new ServiceUnit("jenkins.service", "process").leaseWarning());
        assertEquals(Optional.empty(), new ServiceUnit("jenkins.service", "none").leaseWarning());
    }
}
