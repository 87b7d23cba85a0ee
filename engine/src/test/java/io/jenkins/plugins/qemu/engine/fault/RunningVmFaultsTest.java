package io.jenkins.plugins.qemu.engine.fault;

import static io.jenkins.plugins.qemu.engine.fault.FaultFixtures.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.testing.TestEngine;
import io.jenkins.plugins.qemu.engine.testing.TestImages;
import io.jenkins.plugins.qemu.engine.vm.Phase;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Faults on VMs that reached a verified SSH login: QEMU SIGKILLed under a running VM, and a guest
 * that ignores the ACPI power button. The two guests boot concurrently, once, for the class:
 * these are the suite's only full boots.
 */
@ExtendWith(FaultReportExtension.class)
class RunningVmFaultsTest {
    @RegisterExtension
    static final TestEngine ENGINE = new TestEngine();
    private static final Duration GRACE = Duration.ofSeconds(8);
    private static Vm toKill;
    private static Vm stubborn;

    @BeforeAll
    static void start() throws Exception {
        CompletableFuture<Vm> a = CompletableFuture.supplyAsync(() -> boot(spec()));
        CompletableFuture<Vm> b = CompletableFuture.supplyAsync(() -> boot(spec().shutdownGrace(GRACE)));
        toKill = a.join();
        stubborn = b.join();
    }

    private static Vm boot(io.jenkins.plugins.qemu.engine.vm.VmSpec.Builder spec) {
        try {
            return ENGINE.engine().boot(spec.build(), l -> { });
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void qemuSigkilledAfterReady(FaultReport report) throws Exception {
        Vm vm = toKill;
        assertEquals(Phase.RUNNING, vm.phase());
        int port = vm.sshPort();
        assertTrue(TestImages.portOpen(port));
        ProcessHandle.of(vm.pid()).orElseThrow().destroyForcibly();
        report.injected("QEMU killed with SIGKILL after the VM was ready");
        Instant deadline = Instant.now().plusSeconds(10);
        while (vm.isAlive() && Instant.now().isBefore(deadline)) {
            Thread.sleep(20);
        }
        assertFalse(vm.isAlive(), "the VM reports itself dead");
        Instant t = Instant.now();
        vm.destroy();
        assertTrue(Duration.between(t, Instant.now()).toSeconds() < 5, "destroying a dead VM does not wait for a power-off");
        report.assertNothingLeft("QEMU SIGKILL after ready", vm.id(), ENGINE.stateDir(), port);
    }

    @Test
    void guestIgnoresSystemPowerdown(FaultReport report) throws Exception {
        Vm vm = stubborn;
        int port = vm.sshPort();
        // systemd-logind is what turns the ACPI power button into a shutdown in this guest.
        exec(vm, "sudo mkdir -p /etc/systemd/logind.conf.d"
                + " && printf '[Login]\\nHandlePowerKey=ignore\\n' | sudo tee /etc/systemd/logind.conf.d/qa-ignore-power.conf >/dev/null"
                + " && sudo systemctl restart systemd-logind");
        String setting = exec(vm, "busctl get-property org.freedesktop.login1 /org/freedesktop/login1 org.freedesktop.login1.Manager HandlePowerKey");
        assertEquals("s \"ignore\"", setting, "the guest now ignores the power button");
        report.injected("guest ignores system_powerdown");
        Instant t = Instant.now();
        vm.destroy();
        Duration took = Duration.between(t, Instant.now());
        assertTrue(took.compareTo(GRACE) >= 0, "destroy waited the grace period for a power-off that never came: " + took);
        assertTrue(took.compareTo(GRACE.plusSeconds(10)) < 0, "and then ended within its bound: " + took);
        report.assertNothingLeft("guest ignores system_powerdown", vm.id(), ENGINE.stateDir(), port);
    }

    private static String exec(Vm vm, String command) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = vm.exec(command, out, err, Duration.ofMinutes(2));
        assertEquals(0, rc, command + ": " + err.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8).strip();
    }
}
