package io.jenkins.plugins.qemu.engine.warm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.QemuEngine;
import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.fault.FaultReport;
import io.jenkins.plugins.qemu.engine.fault.FaultReportExtension;
import io.jenkins.plugins.qemu.engine.image.BaseImage;
import io.jenkins.plugins.qemu.engine.ssh.GuestSsh;
import io.jenkins.plugins.qemu.engine.ssh.HostKeyMismatchException;
import io.jenkins.plugins.qemu.engine.testing.TestImages;
import io.jenkins.plugins.qemu.engine.vm.AgentJar;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Warm snapshots against real QEMU and a real guest: a template is booted once and saved, and
 * clones restored from it must each be their own machine (host name, host key, authorized key,
 * machine id, clock, RNG). A broken snapshot falls back to a cold boot, a changed base image makes
 * the snapshot stale and it is rebuilt. Each subclass runs these on one image: ours, which carries
 * the identity service, and a stock one, into which the snapshot boot installs it through
 * cloud-init. The image is a private copy, since the scenarios replace it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(FaultReportExtension.class)
abstract class WarmStartScenarios {
    private String image;
    private Path imagesDir;
    private Path stateDir;
    private QemuEngine engine;
    private Snapshot first;
    /** Every snapshot boot is booked through the engine's gate, and every booking is given back. */
    private final java.util.concurrent.atomic.AtomicInteger admitted = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger released = new java.util.concurrent.atomic.AtomicInteger();

    /** Installs the image under test in {@link TestImages#imagesDir()} if needed; returns its name. */
    abstract String image() throws IOException;

    @BeforeAll
    void start() throws Exception {
        image = image();
        imagesDir = Files.createTempDirectory(Path.of("/tmp"), "qa-warm-images-");
        Path src = TestImages.imagesDir().resolve(image);
        Path dst = Files.createDirectory(imagesDir.resolve(image));
        try (var files = Files.list(src)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, dst.resolve(f.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
        stateDir = TestImages.shortTempDir();
        engine = new QemuEngine(TestImages.config(stateDir).withImagesDir(imagesDir), prep -> {
            admitted.incrementAndGet();
            return java.util.Optional.of(released::incrementAndGet);
        });
    }

    @AfterAll
    void stop() throws Exception {
        if (engine != null) {
            engine.close();
        }
        // Every VM removed its folder; only the snapshots (kept by design) may remain.
        List<Path> left = new ArrayList<>();
        for (Path p : TestImages.filesBelow(stateDir)) {
            if (!p.startsWith(stateDir.resolve("snapshots"))) {
                left.add(p);
            }
        }
        FileTree.delete(stateDir);
        FileTree.delete(imagesDir);
        assertEquals(List.of(), left, "files left in the state directory");
        assertTrue(admitted.get() >= 1, "snapshot boots were booked through the gate");
        assertEquals(admitted.get(), released.get(), "every snapshot boot's booking was released");
    }

    private VmSpec.Builder spec() {
        return TestImages.guestSpec().image(image).warmStart(true);
    }

    @Test
    @Order(1)
    void fourClonesRestoreAtOnceEachWithItsOwnIdentity() throws Exception {
        first = engine.prepareWarmSnapshot(spec().build());
        assertEquals("r--------", PosixFilePermissions.toString(Files.getPosixFilePermissions(first.state())));
        assertEquals("r--------", PosixFilePermissions.toString(Files.getPosixFilePermissions(first.disk())));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(first.dir())));

        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Vm> clones = new CopyOnWriteArrayList<>();
        try {
            List<CompletableFuture<Vm>> boots = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                VmSpec s = spec().hostname("qa-clone-" + i).build();
                boots.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        Vm vm = engine.boot(s, line -> { });
                        clones.add(vm);
                        return vm;
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }, pool));
            }
            List<Vm> vms = new ArrayList<>();
            for (CompletableFuture<Vm> f : boots) {
                vms.add(f.join());
            }
            Set<String> hostKeys = new HashSet<>();
            Set<String> randoms = new HashSet<>();
            Set<String> machineIds = new HashSet<>();
            for (int i = 0; i < 4; i++) {
                Vm vm = vms.get(i);
                assertTrue(vm.restored(), vm.id() + " was booted cold: " + vm.coldBootReason());
                assertEquals("qa-clone-" + i, TestImages.run(vm, "hostname"));
                String served = TestImages.run(vm, "sudo -n cat /etc/ssh/ssh_host_ed25519_key.pub");
                assertTrue(served.startsWith(vm.hostKeyLine()), served + " vs " + vm.hostKeyLine());
                hostKeys.add(vm.hostKeyLine());
                long guestClock = Long.parseLong(TestImages.run(vm, "date +%s"));
                assertTrue(Math.abs(guestClock - Instant.now().getEpochSecond()) <= 5, "guest clock " + guestClock + " is not now");
                randoms.add(TestImages.run(vm, "head -c 16 /dev/urandom | od -An -tx1"));
                machineIds.add(TestImages.run(vm, "cat /etc/machine-id"));
                assertEquals("1", TestImages.run(vm, "grep -c '^127.0.1.1 qa-clone-" + i + "$' /etc/hosts"));
                for (String socket : List.of("qmp.sock", "ident.sock")) {
                    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(vm.stateDir().resolve(socket))),
                            socket + " is owner-only");
                }
            }
            assertEquals(4, hostKeys.size(), "every clone has its own host key");
            assertEquals(4, randoms.size(), "every clone's RNG was reseeded");
            assertEquals(4, machineIds.size(), "every clone has its own machine id");

            // One clone's key is refused by another, and another's host key does not pass as its own.
            Vm a = vms.get(0);
            Vm b = vms.get(1);
            GuestSsh ssh = new GuestSsh();
            try {
                GuestSsh.Target aKeyOnB = new GuestSsh.Target("127.0.0.1", b.sshPort(), "jenkins", a.clientKey(), b.sshTarget().hostKey());
                IOException refused = assertThrows(IOException.class,
                        () -> ssh.exec(aKeyOnB, "true", OutputStream.nullOutputStream(), OutputStream.nullOutputStream(), Duration.ofSeconds(30)));
                assertFalse(refused instanceof HostKeyMismatchException, refused.toString());
                GuestSsh.Target bPinnedAsA = new GuestSsh.Target("127.0.0.1", b.sshPort(), "jenkins", b.clientKey(), a.sshTarget().hostKey());
                assertThrows(HostKeyMismatchException.class,
                        () -> ssh.exec(bPinnedAsA, "true", OutputStream.nullOutputStream(), OutputStream.nullOutputStream(), Duration.ofSeconds(30)));
            } finally {
                ssh.close();
            }
        } finally {
            for (Vm vm : clones) {
                vm.destroy();
            }
            pool.shutdownNow();
        }
        for (Vm vm : clones) {
            assertFalse(Files.exists(vm.stateDir()), vm.stateDir() + " left behind");
        }
    }

    @Test
    @Order(2)
    void aSnapshotThatDoesNotRestoreFallsBackToAColdBootAndIsRebuilt(FaultReport report) throws Exception {
        Snapshot s = engine.prepareWarmSnapshot(spec().build());
        assertEquals(first.created(), s.created(), "a current snapshot is not built again");
        // Same size, so the snapshot still looks complete; QEMU rejects the content.
        Files.setPosixFilePermissions(s.state(), PosixFilePermissions.fromString("rw-------"));
        byte[] junk = new byte[4096];
        java.util.Arrays.fill(junk, (byte) 0x5a);
        Files.write(s.state(), junk, StandardOpenOption.WRITE);
        report.injected("warm snapshot QEMU refuses to load (saved state overwritten)");

        List<String> progress = new CopyOnWriteArrayList<>();
        Vm vm = engine.boot(spec().hostname("qa-fallback").build(), progress::add);
        try {
            assertFalse(vm.restored());
            assertNotNull(vm.coldBootReason());
            assertTrue(vm.coldBootReason().startsWith("restore failed while restoring the warm snapshot"), vm.coldBootReason());
            assertTrue(vm.coldBootReason().contains("Not a migration stream"), "QEMU's own words: " + vm.coldBootReason());
            assertTrue(progress.stream().anyMatch(l -> l.contains("falling back to a cold boot")), progress.toString());
            assertEquals("qa-fallback", TestImages.run(vm, "hostname"));
        } finally {
            vm.destroy();
        }
        report.assertNothingLeft("warm snapshot QEMU refuses to load", vm.id(), stateDir, vm.sshPort());
        Snapshot rebuilt = engine.prepareWarmSnapshot(spec().build());
        assertTrue(rebuilt.created().isAfter(s.created()), "the broken snapshot was replaced");
        Vm restored = engine.boot(spec().build(), line -> { });
        try {
            assertTrue(restored.restored(), restored.coldBootReason());
        } finally {
            restored.destroy();
        }
    }

    @Test
    @Order(3)
    void aChangedBaseImageMakesTheSnapshotStaleAndItIsRebuilt(FaultReport report) throws Exception {
        Snapshot before = engine.prepareWarmSnapshot(spec().build());
        VmSpec s = spec().build();
        BaseImage base = engine.catalog().resolve(image);
        assertNotNull(engine.warmStarts().choose(s).snapshot(), "current before the image changes");

        // Replacing the image as a pull or a rebuild would: a new file renamed over the old one.
        Path disk = base.disk();
        Path fresh = disk.resolveSibling("disk.qcow2.new");
        Files.copy(disk, fresh);
        Files.move(fresh, disk, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        report.injected("base image replaced under a warm snapshot");

        WarmStarts.Choice stale = engine.warmStarts().choose(s);
        assertNull(stale.snapshot());
        assertTrue(stale.reason().contains("is stale: base image"), stale.reason());

        // A VM asked for now boots cold, says why, and the rebuild starts behind it.
        List<String> progress = new CopyOnWriteArrayList<>();
        Vm cold = engine.boot(spec().hostname("qa-stale").build(), progress::add);
        try {
            assertFalse(cold.restored());
            assertTrue(cold.coldBootReason().contains("is stale: base image"), cold.coldBootReason());
            assertTrue(progress.stream().anyMatch(l -> l.contains("cold boot: warm snapshot") && l.contains("building it now if the capacity allows it")),
                    progress.toString());
            assertEquals("qa-stale", TestImages.run(cold, "hostname"));
        } finally {
            cold.destroy();
        }
        report.assertNothingLeft("base image replaced under a warm snapshot", cold.id(), stateDir, cold.sshPort());

        Snapshot after = engine.prepareWarmSnapshot(s);
        assertTrue(after.created().isAfter(before.created()));
        Vm vm = engine.boot(spec().build(), line -> { });
        try {
            assertTrue(vm.restored(), vm.coldBootReason());
        } finally {
            vm.destroy();
        }
    }

    @Test
    @Order(4)
    void anAgentJarRidesInTheSnapshotWithItsArchiveAndANewJarMakesItStale(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        // Two jars of the "controller" for the agent's jar cache: the engine's bootstrap and a larger one.
        Path big = Files.write(tmp.resolve("big.jar"), new java.util.Random(7).ints(300_000).mapToObj(Integer::toString)
                .collect(java.util.stream.Collectors.joining("\n")).getBytes(StandardCharsets.UTF_8));
        List<io.jenkins.plugins.qemu.engine.vm.CachedJar> cached = List.of(io.jenkins.plugins.qemu.engine.vm.CachedJar.of(big),
                io.jenkins.plugins.qemu.engine.vm.CachedJar.of(Files.write(tmp.resolve("small.jar"), new byte[] {42})));
        AgentJar jar = io.jenkins.plugins.qemu.engine.bench.AgentWorkload.writeJar(tmp.resolve("echo.jar")).withCachedJars(cached);
        VmSpec s = spec().agentJar(jar).build();
        WarmStarts.Choice without = engine.warmStarts().choose(s);
        assertNull(without.snapshot(), "a snapshot without the jar does not do for a template with one");
        assertTrue(without.reason().contains("is stale: agent jar (none -> sha256 " + jar.sha256() + ")"), without.reason());
        engine.prepareWarmSnapshot(s);

        Vm vm = engine.boot(spec().agentJar(jar).hostname("qa-agent").build(), line -> { });
        try {
            assertTrue(vm.restored(), vm.coldBootReason());
            try (GuestSsh.Connection ssh = vm.connect(Duration.ofMinutes(1))) {
                assertFalse(vm.placeAgentJar(ssh, Duration.ofMinutes(1)), "a clone of the snapshot has the jar already");
            }
            // The snapshot's agent runs in the clone: claimed through the VM's session, once, and
            // only by a launcher with its options.
            io.jenkins.plugins.qemu.engine.vm.AgentPrestart prestart = new io.jenkins.plugins.qemu.engine.vm.AgentPrestart(
                    jar, vm.accelerator().accel());
            try (GuestSsh.Connection ssh = vm.connect(Duration.ofMinutes(1))) {
                assertTrue(new io.jenkins.plugins.qemu.engine.vm.AgentPrestart(jar.withOptions(List.of("-Xmx96m")), vm.accelerator().accel())
                        .connect(ssh, List.of(), Duration.ofSeconds(30)).isEmpty(), "another template's options: not this agent");
                java.util.Optional<io.jenkins.plugins.qemu.engine.ssh.GuestProcess> claimed = prestart.connect(ssh, List.of("arg"),
                        Duration.ofSeconds(30));
                assertTrue(claimed.isPresent(), "the clone's agent was pre-started; its log: " + prestart.logTail(ssh, Duration.ofSeconds(30)));
                try (io.jenkins.plugins.qemu.engine.ssh.GuestProcess agent = claimed.get()) {
                    agent.stdin().write("restored\n".getBytes(StandardCharsets.UTF_8));
                    agent.stdin().flush();
                    assertEquals("restored", new java.io.BufferedReader(new java.io.InputStreamReader(agent.stdout(), StandardCharsets.UTF_8))
                            .readLine(), "the pre-started agent answers on the forwarded connection");
                }
                assertTrue(prestart.connect(ssh, List.of(), Duration.ofSeconds(30)).isEmpty(), "claimed once, then nothing listens");
            }
            assertEquals(jar.sha256() + "  " + jar.guestPath(), TestImages.run(vm, "sha256sum " + jar.guestPath()));
            for (io.jenkins.plugins.qemu.engine.vm.CachedJar c : cached) {
                String inGuest = AgentJar.remotingArguments("/w").get(3) + "/" + c.cachePath();
                assertEquals(io.jenkins.plugins.qemu.engine.image.Sha256.of(c.file()), TestImages.run(vm, "sha256sum " + inGuest).split(" ")[0],
                        "the clone's jar cache has " + c.file().getFileName() + " under remoting's name");
            }
            // -Xshare:on fails instead of falling back, so an answer proves the archive maps.
            assertEquals("ping", TestImages.run(vm, "echo ping | java -XX:SharedArchiveFile=" + jar.archivePath()
                    + " -Xshare:on -jar " + jar.guestPath()));
            // The agent as the plugin starts it: its stdio are streams held open on the VM's connection
            // (the remoting channel), its work directory made, the archive used (-Xshare:on below).
            try (GuestSsh.Connection ssh = vm.connect(Duration.ofMinutes(1));
                    io.jenkins.plugins.qemu.engine.ssh.GuestProcess agent = ssh.start(jar.remotingCommand(
                            List.of("-XX:SharedArchiveFile=" + jar.archivePath(), "-Xshare:on"), "/tmp/qa-agent/work"),
                            System.err, Duration.ofMinutes(1))) {
                java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(agent.stdout(), StandardCharsets.UTF_8));
                for (String line : List.of("first", "second")) {
                    agent.stdin().write((line + "\n").getBytes(StandardCharsets.UTF_8));
                    agent.stdin().flush();
                    assertEquals(line, out.readLine(), "the agent answers while its stdin stays open");
                }
                assertTrue(agent.isOpen());
                agent.stdin().close();
                assertEquals(java.util.Optional.of(0), agent.awaitExit(Duration.ofMinutes(1)), "end-of-file ends the agent");
            }
            assertEquals("yes", TestImages.run(vm, "test -d /tmp/qa-agent/work && echo yes"));
            // The balloon that reports free pages is bound in the guest, and its statistics reach
            // the clone's QEMU, which was asked to poll them only after the restore.
            assertFalse(TestImages.run(vm, "ls /sys/bus/virtio/drivers/virtio_balloon | grep virtio").isEmpty());
            assertTrue(TestImages.awaitGuestMemory(vm).netRxBytes() > 0, "the clone's own logins since its restore");

            // Without the jar (a cold boot's guest), place copies it once, in one command and no SFTP.
            TestImages.run(vm, "rm " + jar.guestPath());
            try (GuestSsh.Connection ssh = vm.connect(Duration.ofMinutes(1))) {
                assertTrue(jar.place(ssh, Duration.ofMinutes(1)));
                assertFalse(jar.place(ssh, Duration.ofMinutes(1)), "a jar in place is not copied again");
            }
            assertEquals(jar.sha256() + "  " + jar.guestPath(), TestImages.run(vm, "sha256sum " + jar.guestPath()));
        } finally {
            vm.destroy();
        }

        Path other = tmp.resolve("other.jar");
        Files.copy(jar.file(), other);
        Files.write(other, new byte[] {0}, StandardOpenOption.APPEND);
        AgentJar upgraded = AgentJar.of(other);
        WarmStarts.Choice stale = engine.warmStarts().choose(spec().agentJar(upgraded).build());
        assertNull(stale.snapshot());
        assertTrue(stale.reason().contains("is stale: agent jar (sha256 " + jar.sha256() + " -> sha256 " + upgraded.sha256() + ")"),
                stale.reason());
    }
}
