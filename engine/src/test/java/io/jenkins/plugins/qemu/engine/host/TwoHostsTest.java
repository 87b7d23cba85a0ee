package io.jenkins.plugins.qemu.engine.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.QemuEngine;
import io.jenkins.plugins.qemu.engine.cloud.CapacityLedger;
import io.jenkins.plugins.qemu.engine.cloud.HostBudget;
import io.jenkins.plugins.qemu.engine.cloud.HostPlacement;
import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.reaper.ReapReport;
import io.jenkins.plugins.qemu.engine.state.ProcFs;
import io.jenkins.plugins.qemu.engine.testing.TestImages;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Two engines on two state directories stand for two hosts, each reached only through serialised
 * requests ({@link InProcessHost}), with the cloud's {@link HostPlacement} choosing between them
 * against real QEMU: a VM is placed on each, runs there and nowhere else, a host that is lost no
 * longer counts its VM as capacity, and when it comes back (a new engine on its state directory,
 * as a reconnected agent opens one) the VM its crashed agent left running is reaped before the
 * host takes new VMs.
 */
class TwoHostsTest {
    private static final String IMAGE = TestImages.IMAGE;
    private static final String SHA = "ab".repeat(32);

    @Test
    void vmsArePlacedOnBothHostsAndALostHostsVmIsReapedWhenItComesBack() throws Exception {
        String owner = "test-hosts-" + ProcessHandle.current().pid();
        Path stateA = TestImages.shortTempDir();
        Path stateB = TestImages.shortTempDir();
        String images = TestImages.imagesDir().toString();
        HostSetup setupA = new HostSetup("host-a", images, stateA.toString(), owner);
        HostSetup setupB = new HostSetup("host-b", images, stateB.toString(), owner);
        HostSide a = HostSide.open(setupA);
        // host-b's first agent JVM: an earlier incarnation of this process, so that once it is
        // "lost" its VM belongs to a dead owner, as after the agent's JVM crashed.
        HostSide lostB = new HostSide(setupB, (config, gate) -> new QemuEngine(config, gate,
                TestImages.earlierIncarnation(owner, 60)));
        HostSide returnedB = null;
        ExecutorService boots = Executors.newFixedThreadPool(2);
        try {
            Map<String, HostChannel> hosts = new LinkedHashMap<>();
            hosts.put("host-a", new InProcessHost(a));
            hosts.put("host-b", new InProcessHost(lostB));
            CapacityLedger cloud = new CapacityLedger(new CapacityLedger.Limits(4, 0, 0));
            HostPlacement placement = new HostPlacement(cloud, 2, Duration.ofMinutes(1), Clock.systemUTC());
            placement.configure(List.of(new HostBudget("host-a", 1, 0, 0), new HostBudget("host-b", 1, 0, 0)));
            for (HostChannel h : hosts.values()) {
                HostReport r = h.call(new ProbeHost());
                assertNull(r.unusable(), r.toString());
                assertTrue(r.images().contains(IMAGE), r.toString());
                assertTrue(r.machineCpus() > 0 && r.machineMemoryMiB() > 0, r.toString());
                placement.hostUp(h.host(), r.facts());
            }

            VmSpec one = TestImages.guestSpec().build();
            VmSpec two = TestImages.guestSpec().build();
            HostPlacement.Decision d1 = placement.place(one.vmId(), claim(one), IMAGE);
            HostPlacement.Decision d2 = placement.place(two.vmId(), claim(two), IMAGE);
            assertEquals(Set.of("host-a", "host-b"), Set.of(d1.host(), d2.host()), "one VM on each host");
            HostPlacement.Decision third = placement.place(VmSpec.newVmId(), claim(one), IMAGE);
            assertFalse(third.placed());
            assertEquals("its instance cap of 1 is reached", third.hostReasons().get("host-a"));

            Future<BootedVm> boot1 = boots.submit(() -> hosts.get(d1.host()).call(new BootVm(one)));
            Future<BootedVm> boot2 = boots.submit(() -> hosts.get(d2.host()).call(new BootVm(two)));
            Map<String, BootedVm> booted = new LinkedHashMap<>();
            for (BootedVm b : List.of(boot1.get(), boot2.get())) {
                booted.put(b.host(), b);
                placement.booted(b.vmId());
                assertNotNull(b.clientPrivateKeyOpenSsh());
                assertTrue(b.progress().stream().anyMatch(line -> line.contains("online on 127.0.0.1:" + b.sshPort())), b.progress().toString());
                assertFalse(b.toString().contains("PRIVATE"), "the key stays out of logs: " + b);
            }
            // Each VM runs on its host only: its own guest answers there, and the other host has no such VM.
            for (String host : hosts.keySet()) {
                BootedVm b = booted.get(host);
                CommandResult hostname = hosts.get(host).call(new RunInVm(b.vmId(), "hostname", Duration.ofMinutes(1)));
                assertEquals(0, hostname.exitCode(), hostname.stderr());
                assertEquals(b.vmId(), hostname.stdout().strip());
                List<String> listed = hosts.get(host).call(new ProbeHost()).vms().stream().map(VmSummary::vmId).toList();
                assertEquals(List.of(b.vmId()), listed, host);
                assertTrue(Files.isDirectory((host.equals("host-a") ? stateA : stateB).resolve(b.vmId())), host);
                String console = hosts.get(host).call(new ConsoleTail(b.vmId(), 2048));
                assertTrue(!console.isBlank() && console.length() <= 2048, "the console's tail comes from the host: " + console);
                assertEquals(new SnapshotState(false, false, "warm start is off"), hosts.get(host).call(new CheckSnapshot(TestImages.guestSpec().build(), null)));
            }

            // host-b is lost: its VM's room goes back to the cloud at once, and host-b offers none.
            String vmOnB = booted.get("host-b").vmId();
            long qemuOnB = lostB.vm(vmOnB).orElseThrow().pid();
            assertEquals(List.of(vmOnB), placement.hostLost("host-b", "agent disconnected"));
            assertEquals(1, cloud.usage().instances());
            HostPlacement.Decision whileLost = placement.place(VmSpec.newVmId(), claim(one), IMAGE);
            assertFalse(whileLost.placed());
            assertEquals("offline: agent disconnected", whileLost.hostReasons().get("host-b"));

            // host-b comes back: the new agent's engine reaps what the crashed one left, with the usual proofs.
            returnedB = HostSide.open(setupB);
            hosts.put("host-b", new InProcessHost(returnedB));
            HostReport back = hosts.get("host-b").call(new ProbeHost());
            assertEquals(List.of(vmOnB), back.reapedAtStart(), back.toString());
            assertEquals(List.of(), back.vms());
            assertFalse(new ProcFs().stat(qemuOnB).map(s -> !s.zombie()).orElse(false), "the lost host's QEMU " + qemuOnB + " is killed");
            assertFalse(Files.exists(stateB.resolve(vmOnB)));
            placement.hostUp("host-b", back.facts());
            assertEquals("host-b", placement.place(VmSpec.newVmId(), claim(one), IMAGE).host());

            // host-a's VM: kept by a reaper pass that wants it, then destroyed once, through requests.
            String vmOnA = booted.get("host-a").vmId();
            ReapReport kept = hosts.get("host-a").call(new ReapHost(Set.of(vmOnA)));
            assertEquals(List.of(), kept.reaped());
            assertTrue(hosts.get("host-a").call(new DestroyVm(vmOnA)));
            assertFalse(hosts.get("host-a").call(new DestroyVm(vmOnA)), "a VM already gone is not an error");
            assertTrue(placement.release(vmOnA));
        } finally {
            boots.shutdownNow();
            a.close();
            lostB.close();
            if (returnedB != null) {
                returnedB.close();
            }
            List<Path> left = new java.util.ArrayList<>();
            for (Path dir : List.of(stateA, stateB)) {
                try (var files = Files.list(dir)) {
                    files.filter(f -> !f.getFileName().toString().startsWith(".")).forEach(left::add);
                }
                FileTree.delete(dir);
            }
            assertEquals(List.of(), left, "VM folders left on the hosts");
        }
    }

    @Test
    void aHostThatCannotRunVmsSaysWhyAndRequestsThatNeedAnEngineFail() throws Exception {
        Path notADirectory = Files.createTempFile(Path.of("/tmp"), "qa-host-", ".file");
        try (HostSide side = HostSide.open(new HostSetup("host-c", TestImages.imagesDir().toString(), notADirectory.toString(), "test-hosts"))) {
            HostChannel c = new InProcessHost(side);
            HostReport r = c.call(new ProbeHost());
            assertNotNull(r.unusable());
            assertTrue(r.unusable().contains(notADirectory.toString()), r.unusable());
            assertEquals(List.of(), r.images());
            java.io.IOException e = assertThrows(java.io.IOException.class, () -> c.call(new DestroyVm("qa-0000000000")));
            assertTrue(e.getMessage().startsWith("host host-c cannot run VMs: "), e.getMessage());
        } finally {
            Files.deleteIfExists(notADirectory);
        }
    }

    @Test
    void requestsAndAnswersSurviveSerialisationAndBadOnesAreRefusedBeforeTheyLeave() throws Exception {
        VmSpec spec = TestImages.guestSpec().build();
        List<java.io.Serializable> values = List.of(new ProbeHost(), new BootVm(spec), new DestroyVm("qa-1"), new ReapHost(Set.of("qa-1")),
                new RunInVm("qa-1", "true", Duration.ofSeconds(5)), new ConsoleTail("qa-1", 100), new CheckSnapshot(spec, null), new BuildSnapshot(spec, null),
                new SnapshotState(false, true, "no snapshot; building it now if the capacity allows it"), new HostSetup("h", null, "/tmp/x", "o"),
                new BootedVm("h", "qa-1", 2222, "key", "ssh-ed25519 AAAA", false, "no snapshot", 1234, List.of("online")),
                new HostReport("h", null, List.of(IMAGE), 2, 4096, List.of(new VmSummary("qa-1", IMAGE, 1, 1024, "RUNNING", 2222, true, "u")), List.of()),
                new CommandResult(0, "out", "err"), new MissingJars(List.of(SHA)), new MissingJars.Answer(List.of(SHA)),
                new StoreJar(SHA, new byte[] {1, 2}), new BootVm(spec, new AgentJarRef(SHA, List.of("-Xmx1g"), List.of(SHA))), new ReapReport(false, List.of(new ReapReport.Entry("qa-1", ReapReport.Outcome.REAPED,
                        ReapReport.ProcessOutcome.KILLED, 12, "why"))));
        for (java.io.Serializable v : values) {
            assertEquals(v, InProcessHost.roundTrip(v), v.getClass().getSimpleName());
        }
        assertEquals("lease", assertThrows(io.jenkins.plugins.qemu.engine.config.InvalidInputException.class,
                () -> new BootVm(TestImages.guestSpec().lease(Duration.ofMinutes(5)).build())).field());
        assertEquals("stateDir", assertThrows(io.jenkins.plugins.qemu.engine.config.InvalidInputException.class,
                () -> new HostSetup("h", null, "relative/state", "o")).field());
    }

    private static CapacityLedger.Claim claim(VmSpec spec) {
        return CapacityLedger.Claim.agent(spec.cpus(), spec.memoryMiB());
    }
}
