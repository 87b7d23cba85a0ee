package io.jenkins.plugins.qemu.engine.fault;

import static io.jenkins.plugins.qemu.engine.fault.FaultFixtures.awaitGuestBooting;
import static io.jenkins.plugins.qemu.engine.fault.FaultFixtures.bootFailure;
import static io.jenkins.plugins.qemu.engine.fault.FaultFixtures.bootInBackground;
import static io.jenkins.plugins.qemu.engine.fault.FaultFixtures.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.testing.TestEngine;
import io.jenkins.plugins.qemu.engine.vm.Phase;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import io.jenkins.plugins.qemu.engine.vm.VmBootException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Faults while a real guest is booting under QEMU (phase SSH: QEMU runs, the guest has not
 * reached sshd): the boot times out, QEMU is SIGKILLed, the boot is cancelled, destroy races
 * itself. Each must end the boot promptly with a clear error and leave nothing.
 */
@ExtendWith(FaultReportExtension.class)
class MidBootFaultsTest {
    @RegisterExtension
    static final TestEngine ENGINE = new TestEngine();
    private static final Duration TO_MID_BOOT = Duration.ofMinutes(3);

    @Test
    void guestNeverStartsSshdSoTheBootTimesOut(FaultReport report) throws Exception {
        // No guest reaches sshd in 20 s under TCG: from the engine's side that is a guest whose sshd never comes.
        Vm vm = ENGINE.engine().create(spec().bootTimeout(Duration.ofSeconds(20)).build(), l -> { });
        Instant t = Instant.now();
        CompletableFuture<Throwable> boot = bootInBackground(vm);
        VmBootException e = bootFailure(vm, boot, Duration.ofMinutes(3));
        report.injected("guest never starts sshd (boot timeout)");
        Duration took = Duration.between(t, Instant.now());
        assertTrue(took.compareTo(Duration.ofSeconds(50)) < 0, "the timeout is kept: " + took);
        assertTrue(e.getMessage().contains("timed out after 20 s"), e.getMessage());
        // The console section is always there; on a host loaded enough that the guest printed
        // nothing within the 20 s it reads "--- last lines of guest console (empty) ---".
        assertTrue(e.getMessage().contains("--- last lines of guest console"), "console tail quoted: " + e.getMessage());
        report.assertNothingLeft("boot timeout", vm.id(), ENGINE.stateDir(), vm.sshPort());
    }

    @Test
    void qemuSigkilledMidBoot(FaultReport report) throws Exception {
        Vm vm = ENGINE.engine().create(spec().build(), l -> { });
        CompletableFuture<Throwable> boot = bootInBackground(vm);
        awaitGuestBooting(vm, boot, TO_MID_BOOT);
        long pid = vm.pid();
        int port = vm.sshPort();
        Instant t = Instant.now();
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        report.injected("QEMU killed with SIGKILL mid-boot");
        VmBootException e = bootFailure(vm, boot, Duration.ofSeconds(60));
        assertTrue(Duration.between(t, Instant.now()).toSeconds() < 30, "noticed promptly, not at the boot deadline");
        assertEquals(Phase.SSH, e.phase());
        assertTrue(e.getMessage().contains("QEMU exited with code 137"), e.getMessage());
        assertFalse(vm.isAlive());
        report.assertNothingLeft("QEMU SIGKILL mid-boot", vm.id(), ENGINE.stateDir(), port);
    }

    @Test
    void networkHelperSigkilledMidBoot(FaultReport report) throws Exception {
        Vm vm = ENGINE.engine().create(spec().build(), l -> { });
        CompletableFuture<Throwable> boot = bootInBackground(vm);
        awaitGuestBooting(vm, boot, TO_MID_BOOT);
        long helper = vm.helperPid();
        assertTrue(helper > 0, "the default egress policy runs passt");
        int port = vm.sshPort();
        Instant t = Instant.now();
        ProcessHandle.of(helper).orElseThrow().destroyForcibly();
        report.injected("network helper (passt) killed with SIGKILL mid-boot");
        VmBootException e = bootFailure(vm, boot, Duration.ofSeconds(60));
        assertTrue(Duration.between(t, Instant.now()).toSeconds() < 30, "noticed promptly, not at the boot deadline");
        assertEquals(Phase.SSH, e.phase());
        assertTrue(e.getMessage().contains("the guest's network is gone: passt exited"), e.getMessage());
        assertFalse(vm.isAlive());
        report.assertNothingLeft("passt SIGKILL mid-boot", vm.id(), ENGINE.stateDir(), port);
    }

    @Test
    void bootCancelledFromAnotherThread(FaultReport report) throws Exception {
        Vm vm = ENGINE.engine().create(spec().build(), l -> { });
        CompletableFuture<Throwable> boot = bootInBackground(vm);
        awaitGuestBooting(vm, boot, TO_MID_BOOT);
        int port = vm.sshPort();
        Instant t = Instant.now();
        vm.destroy();
        report.injected("boot cancelled from another thread mid-boot");
        assertTrue(Duration.between(t, Instant.now()).toSeconds() < 20, "destroy of a booting VM is quick");
        VmBootException e = bootFailure(vm, boot, Duration.ofSeconds(30));
        assertTrue(e.getMessage().contains("cancelled"), e.getMessage());
        assertEquals(Phase.SSH, e.phase());
        assertFalse(vm.isAlive());
        report.assertNothingLeft("boot cancelled", vm.id(), ENGINE.stateDir(), port);
    }

    @Test
    void destroyCalledTwiceAndConcurrently(FaultReport report) throws Exception {
        // Never booted: destroy twice is a no-op that creates nothing.
        Vm idle = ENGINE.engine().create(spec().build(), l -> { });
        idle.destroy();
        idle.destroy();
        report.assertNothingLeft("destroy twice (never booted)", idle.id(), ENGINE.stateDir(), -1);

        Vm vm = ENGINE.engine().create(spec().build(), l -> { });
        CompletableFuture<Throwable> boot = bootInBackground(vm);
        awaitGuestBooting(vm, boot, TO_MID_BOOT);
        int port = vm.sshPort();
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<Duration>> destroys = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            destroys.add(CompletableFuture.supplyAsync(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                Instant t = Instant.now();
                vm.destroy();
                return Duration.between(t, Instant.now());
            }, r -> new Thread(r, "destroy-" + vm.id()).start()));
        }
        go.countDown();
        report.injected("destroy called four times concurrently, then again");
        for (CompletableFuture<Duration> d : destroys) {
            Duration took = d.get(30, TimeUnit.SECONDS);
            assertTrue(took.toSeconds() < 20, "every caller returns within the bound: " + took);
        }
        Instant t = Instant.now();
        vm.destroy();
        assertTrue(Duration.between(t, Instant.now()).toMillis() < 1000, "a later destroy returns at once");
        VmBootException e = bootFailure(vm, boot, Duration.ofSeconds(30));
        assertTrue(e.getMessage().contains("cancelled"), e.getMessage());
        assertEquals(Phase.SSH, e.phase(), "the error names the phase the boot was in, not DESTROY");
        report.assertNothingLeft("destroy concurrently", vm.id(), ENGINE.stateDir(), port);
    }
}
