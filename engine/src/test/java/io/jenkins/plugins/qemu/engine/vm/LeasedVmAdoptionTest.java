package io.jenkins.plugins.qemu.engine.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.QemuEngine;
import io.jenkins.plugins.qemu.engine.reaper.ReapReport;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.state.OwnerIdentity;
import io.jenkins.plugins.qemu.engine.state.ProcFs;
import io.jenkins.plugins.qemu.engine.state.StateStore;
import io.jenkins.plugins.qemu.engine.state.VmRecord;
import io.jenkins.plugins.qemu.engine.testing.TestImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A controller restart against real guests: engine A (playing the controller before its restart:
 * this process with an earlier JVM start, as after a safe restart's exec) boots a leased VM and a
 * plain one and closes leaving leased VMs running; the plain one dies with A, the leased one keeps
 * running and answering SSH. An engine of another owner id neither reaps nor adopts it; engine B
 * (this JVM as it is) adopts it, runs a command in it over SSH with the keys A booted it with,
 * and destroys it: nothing is left. A lease nobody claims ends, and the reaper removes the VM.
 */
class LeasedVmAdoptionTest {
    private final ProcFs proc = new ProcFs();

    private boolean alive(long pid) {
        return proc.stat(pid).map(s -> !s.zombie()).orElse(false);
    }

    @Test
    void aLeasedVmOutlivesItsEngineAndTheNextIncarnationAdoptsIt() throws Exception {
        Path stateDir = TestImages.shortTempDir();
        EngineConfig config = TestImages.config(stateDir);
        QemuEngine a = null;
        QemuEngine b = null;
        long qemuPid = -1;
        // A host service the guest may reach (egress allow:PORT), relayed over the owner's SSH session.
        // It greets, so the guest proves data comes through, not only that the relay's port opens.
        try (TestImages.HostGreeter hostService = new TestImages.HostGreeter("hello-from-host")) {
            int servicePort = hostService.port();
            String reach = "timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + servicePort + " && head -c 15 <&3' 2>/dev/null || echo refused";
            a = new QemuEngine(config, SnapshotBuildGate.ALWAYS, TestImages.earlierIncarnation(config.ownerId(), 60));
            Vm leased = a.boot(TestImages.guestSpec().lease(Duration.ofMinutes(5)).egress("none+allow:" + servicePort).build(), line -> { });
            assertEquals("hello-from-host", TestImages.run(leased, reach), "the relay works before the restart");
            Vm plain = a.boot(TestImages.guestSpec().build(), line -> { });
            // A build step that must survive the restart: started over SSH, detached from the session.
            TestImages.run(leased, "nohup sleep 600 >/dev/null 2>&1 </dev/null & echo started");
            String id = leased.id();
            String key = leased.clientKey().privateKeyOpenSsh();
            String hostKey = leased.hostKeyLine();
            qemuPid = leased.pid();
            int port = leased.sshPort();
            long plainPid = plain.pid();

            a.closeLeavingLeasedRunning();
            a = null;
            assertFalse(alive(plainPid), "a VM without a lease dies with its engine");
            assertFalse(Files.exists(stateDir.resolve(plain.id())));
            assertTrue(alive(qemuPid), "the leased VM's QEMU runs on");
            assertTrue(TestImages.portOpen(port), "and its SSH port still answers");
            assertEquals(Phase.LEFT_RUNNING, leased.phase());
            VmRecord left = new StateStore(stateDir).read(stateDir.resolve(id)).orElseThrow();
            assertTrue(left.leaseHeldAt(Instant.now()) && left.released(), left.toString());
            assertEquals(List.of(servicePort), left.relayedHostPorts(), "the record keeps the relayed ports for the adopter");

            try (QemuEngine other = new QemuEngine(EngineConfig.defaults(TestImages.imagesDir(), "someone-else").withStateDir(stateDir))) {
                assertEquals(List.of(), other.startupReap().reaped(), other.startupReap().format());
                IOException e = assertThrows(IOException.class, () -> other.adopt(id, key, hostKey));
                assertTrue(e.getMessage().contains("belongs to owner id '" + config.ownerId() + "'"), e.getMessage());
            }
            assertTrue(alive(qemuPid), "another owner id's engine touched nothing");

            b = new QemuEngine(config);
            assertEquals(List.of(), b.startupReap().reaped(), b.startupReap().format());
            Vm adopted = b.adopt(id, key, hostKey);
            assertEquals(qemuPid, adopted.pid());
            assertEquals(port, adopted.sshPort());
            assertEquals(leased.accelerator().accel(), adopted.accelerator().accel(),
                    "the adopted VM knows its accelerator: the launcher picks the agent JVM's options by it");
            assertEquals(List.of(adopted), b.vms());
            assertEquals("still running", TestImages.run(adopted, "pgrep -x sleep >/dev/null && echo still running"));
            assertEquals("hello-from-host", TestImages.run(adopted, reach), "the adopting engine relays the host port again");
            VmRecord taken = new StateStore(stateDir).read(stateDir.resolve(id)).orElseThrow();
            assertTrue(taken.owner().sameIncarnation(OwnerIdentity.current(config.ownerId(), proc)), taken.toString());
            assertEquals("debian-12", taken.image());
            // The adopting engine reads the usage too: the overlay by its path, QMP through its own connection.
            TestImages.run(adopted, "dd if=/dev/urandom of=/var/tmp/y bs=1M count=8 oflag=direct status=none");
            io.jenkins.plugins.qemu.engine.usage.VmUsage u = adopted.usage();
            assertTrue(u != null && u.vcpuNanos() > 0 && u.diskWrittenBytes() >= 8 << 20 && u.overlayGrowthBytes() >= 8 << 20,
                    "usage of an adopted VM: " + u);

            adopted.destroy();
            assertFalse(alive(qemuPid), "destroying the adopted VM ends its QEMU");
            assertFalse(Files.exists(stateDir.resolve(id)));
        } finally {
            if (a != null) {
                a.close();
            }
            if (qemuPid > 0 && alive(qemuPid)) {
                ProcessHandle.of(qemuPid).ifPresent(ProcessHandle::destroyForcibly); // the test's own VM, only on failure
            }
            TestImages.closeAndAssertNothingLeft(b, stateDir);
        }
    }

    @Test
    void aLeaseNobodyClaimsEndsAndTheReaperRemovesTheVm() throws Exception {
        Path stateDir = TestImages.shortTempDir();
        EngineConfig config = TestImages.config(stateDir);
        Duration lease = Duration.ofSeconds(20);
        QemuEngine a = null;
        long qemuPid = -1;
        try {
            a = new QemuEngine(config, SnapshotBuildGate.ALWAYS, TestImages.earlierIncarnation(config.ownerId(), 60));
            Instant bootStart = Instant.now();
            Vm vm = a.boot(TestImages.guestSpec().lease(lease).build(), line -> { });
            qemuPid = vm.pid();
            String id = vm.id();
            // The boot takes longer than the lease: only the engine's renewal keeps it from ending meanwhile.
            Thread.sleep(6_000);
            VmRecord renewed = new StateStore(stateDir).read(stateDir.resolve(id)).orElseThrow();
            assertTrue(renewed.leaseEnd().isAfter(bootStart.plus(lease).plusSeconds(5)), renewed.leaseUntil() + " was renewed");

            a.closeLeavingLeasedRunning();
            a = null;
            assertTrue(alive(qemuPid));
            Instant end = new StateStore(stateDir).read(stateDir.resolve(id)).orElseThrow().leaseEnd();
            assertTrue(!end.isAfter(Instant.now().plus(lease)), "at most one lease after its owner let go: " + end);
            Thread.sleep(Math.max(0, Duration.between(Instant.now(), end).toMillis()) + 1000);

            try (QemuEngine later = new QemuEngine(config)) {
                ReapReport r = later.startupReap();
                assertEquals(List.of(id), r.reaped(), r.format());
                assertEquals(List.of(qemuPid), r.killedPids(), r.format());
                assertTrue(r.entries().get(0).reason().contains("lease ended unclaimed"), r.format());
            }
            assertFalse(alive(qemuPid));
        } finally {
            if (a != null) {
                a.close();
            }
            if (qemuPid > 0 && alive(qemuPid)) {
                ProcessHandle.of(qemuPid).ifPresent(ProcessHandle::destroyForcibly);
            }
            TestImages.closeAndAssertNothingLeft(null, stateDir);
        }
    }
}
