package io.jenkins.plugins.qemu.engine.vm;

import static io.jenkins.plugins.qemu.engine.testing.TestImages.IMAGE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.image.BaseImage;
import io.jenkins.plugins.qemu.engine.ssh.GuestSsh;
import io.jenkins.plugins.qemu.engine.ssh.HostKeyMismatchException;
import io.jenkins.plugins.qemu.engine.ssh.SshKeyPair;
import io.jenkins.plugins.qemu.engine.testing.TestEngine;
import io.jenkins.plugins.qemu.engine.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The whole lifecycle against real QEMU and the real Debian guest: boot to a pinned-key SSH
 * login, prove the seed took effect, destroy, and prove nothing is left.
 */
class VmLifecycleTest {
    @RegisterExtension
    static final TestEngine ENGINE = new TestEngine();

    private static VmSpec.Builder spec() {
        return TestImages.guestSpec();
    }

    @Test
    void bootsToPinnedSshLoginWithOurHostnameAndLeavesNothingBehind() throws Exception {
        BaseImage base = ENGINE.engine().catalog().resolve(IMAGE);
        String baseSumBefore = TestImages.sha256(base.disk());

        // A grace period exercises the whole destroy sequence: system_powerdown, wait, quit, kill.
        VmSpec spec = spec().hostname("qa-lifecycle-host").shutdownGrace(Duration.ofSeconds(2)).build();
        Vm vm = ENGINE.engine().boot(spec, line -> { });
        int port = vm.sshPort();
        long pid = vm.pid();
        Path dir = vm.stateDir();
        try {
            assertEquals("qa-lifecycle-host", TestImages.run(vm, "hostname"), "the guest took the host name from our seed");
            assertEquals("jenkins", TestImages.run(vm, "id -un"));
            // The host key the guest serves is exactly the one we generated and pinned.
            String served = TestImages.run(vm, "sudo -n cat /etc/ssh/ssh_host_ed25519_key.pub");
            assertTrue(served.startsWith(vm.hostKeyLine()), served + " vs " + vm.hostKeyLine());
            assertFalse(TestImages.run(vm, "sudo -n ls /etc/ssh").contains("ssh_host_rsa_key"), "no keys generated in the guest");
            assertTrue(vm.timings().timeToOnline().compareTo(Duration.ZERO) > 0);
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
            // The identity carries the guest's private host key: the seed ISO or, on the fast path,
            // the fw_cfg files; either way readable by its owner only.
            Path secret = Files.exists(dir.resolve("seed.iso")) ? dir.resolve("seed.iso") : dir.resolve("identity/host_key");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(secret)));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("qmp.sock"))),
                    "QEMU's QMP socket is owner-only like every file of the VM");
            assertTrue(TestImages.portOpen(port));
            // QEMU and its egress helper: both name the VM (the helper through its socket's path).
            assertTrue(vm.helperPid() > 0, "the default egress policy runs passt");
            assertEquals(java.util.Set.of(pid, vm.helperPid()), java.util.Set.copyOf(TestImages.processesMentioning(spec.vmId())));

            // A client pinning another key is refused at once, not retried until the deadline.
            GuestSsh.Target wrong = new GuestSsh.Target("127.0.0.1", port, "jenkins", vm.clientKey(),
                    SshKeyPair.generate("other").publicKey());
            try (GuestSsh ssh = new GuestSsh()) {
                Instant t = Instant.now();
                assertThrows(HostKeyMismatchException.class,
                        () -> ssh.awaitLogin(wrong, Instant.now().plusSeconds(60), Duration.ofMillis(100), () -> false));
                assertTrue(Duration.between(t, Instant.now()).toSeconds() < 30, "mismatch is not retried");
            }
        } finally {
            vm.destroy();
        }
        vm.destroy(); // idempotent
        assertEquals(Phase.DESTROY, vm.phase());
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "QEMU is gone");
        assertEquals(List.of(), TestImages.processesMentioning(spec.vmId()));
        assertFalse(Files.exists(dir), "state directory removed");
        assertFalse(TestImages.portOpen(port), "forwarded port closed");
        assertFalse(ENGINE.engine().vms().contains(vm));
        assertEquals(baseSumBefore, TestImages.sha256(base.disk()), "the base image was never written");
    }

    @Test
    void twoVmsAtOnceGetDifferentPortsAndBothWork() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            CompletableFuture<Vm> a = CompletableFuture.supplyAsync(() -> bootQuietly(spec().build()), pool);
            CompletableFuture<Vm> b = CompletableFuture.supplyAsync(() -> bootQuietly(spec().build()), pool);
            Vm va = a.join();
            Vm vb = b.join();
            try {
                assertNotEquals(va.sshPort(), vb.sshPort());
                assertEquals(va.spec().hostname(), TestImages.run(va, "hostname"));
                assertEquals(vb.spec().hostname(), TestImages.run(vb, "hostname"));
            } finally {
                va.destroy();
                vb.destroy();
            }
            assertEquals(List.of(), TestImages.processesMentioning(va.id()));
            assertEquals(List.of(), TestImages.processesMentioning(vb.id()));
            assertFalse(TestImages.portOpen(va.sshPort()));
            assertFalse(TestImages.portOpen(vb.sshPort()));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void guestServingAnotherHostKeyFailsTheBootClearly() throws Exception {
        // The guest is told (through ordinary cloud-config) to serve a key we did not pin:
        // the boot must fail on the key, naming the VM and the SSH phase, and leave nothing.
        SshKeyPair foreign = SshKeyPair.generate("foreign");
        String extra = "write_files:\n"
                + "  - path: /etc/ssh/sshd_config.d/00-foreign.conf\n"
                + "    content: \"HostKey /etc/ssh/foreign_ed25519\\n\"\n"
                + "  - path: /etc/ssh/foreign_ed25519\n"
                + "    permissions: '0600'\n"
                + "    content: |\n"
                + foreign.privateKeyOpenSsh().lines().map(l -> "      " + l + "\n").reduce("", String::concat);
        VmSpec spec = spec().extraUserData(extra).build();
        VmBootException e = assertThrows(VmBootException.class, () -> ENGINE.engine().boot(spec, line -> { }));
        assertEquals(Phase.SSH, e.phase());
        assertEquals(spec.vmId(), e.vmId());
        assertTrue(e.getMessage().contains("does not match the pinned key"), e.getMessage());
        assertTrue(e.getMessage().contains(foreign.fingerprint()), e.getMessage());
        assertTrue(e.getMessage().contains("guest console"), e.getMessage());
        assertEquals(List.of(), TestImages.processesMentioning(spec.vmId()));
        assertFalse(Files.exists(ENGINE.stateDir().resolve(spec.vmId())));
    }

    private static Vm bootQuietly(VmSpec spec) {
        try {
            return ENGINE.engine().boot(spec, line -> { });
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
