package io.jenkins.plugins.qemu.engine.fault;

import static io.jenkins.plugins.qemu.engine.fault.FaultFixtures.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.QemuEngine;
import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.state.OwnerIdentity;
import io.jenkins.plugins.qemu.engine.state.ProcFs;
import io.jenkins.plugins.qemu.engine.state.StateStore;
import io.jenkins.plugins.qemu.engine.state.VmRecord;
import io.jenkins.plugins.qemu.engine.testing.TestImages;
import io.jenkins.plugins.qemu.engine.vm.Phase;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import io.jenkins.plugins.qemu.engine.vm.VmBootException;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Faults that strike before or while QEMU is being started: the binary, the base image, the
 * state directory, the socket path, a clashing VM id. None needs a guest to boot; each must end
 * in a clear error naming the phase and the VM, with nothing left behind.
 */
@ExtendWith(FaultReportExtension.class)
class SetupFaultsTest {
    private static Path stateDir;
    private static Path catalog;
    private static QemuEngine engine;
    private static QemuEngine badCatalogEngine;

    @BeforeAll
    static void start() throws Exception {
        stateDir = TestImages.shortTempDir();
        engine = new QemuEngine(TestImages.config(stateDir));
        catalog = Files.createTempDirectory(Path.of("/tmp"), "qa-cat-");
        Files.createDirectories(catalog.resolve("ghost"));
        Files.writeString(catalog.resolve("ghost/manifest.json"), "{\"format\": \"qcow2\", \"disk\": \"disk.qcow2\"}");
        Files.createDirectories(catalog.resolve("broken"));
        Files.writeString(catalog.resolve("broken/manifest.json"), "{\"format\": \"qcow2\", \"disk\": \"disk.qcow2\"}");
        byte[] garbage = new byte[1 << 20];
        new Random(42).nextBytes(garbage);
        Files.write(catalog.resolve("broken/disk.qcow2"), garbage);
        badCatalogEngine = new QemuEngine(EngineConfig.defaults(catalog, "test-" + ProcessHandle.current().pid()).withStateDir(stateDir));
    }

    @AfterAll
    static void stop() throws Exception {
        if (engine != null) {
            engine.close();
        }
        if (badCatalogEngine != null) {
            badCatalogEngine.close();
        }
        List<Path> left = TestImages.filesBelow(stateDir);
        FileTree.delete(stateDir);
        FileTree.delete(catalog);
        assertEquals(List.of(), left, "files left in the state directory");
    }

    @Test
    void networkHelperBinaryMissing(FaultReport report) throws Exception {
        Path missing = Path.of("/tmp/qa-no-such-dir/passt");
        try (QemuEngine e = new QemuEngine(TestImages.config(stateDir).withPasstBinary(missing))) {
            VmSpec spec = spec().build();
            VmBootException ex = assertThrows(VmBootException.class, () -> e.boot(spec, l -> { }));
            report.injected("passt binary missing");
            assertEquals(Phase.NETWORK, ex.phase());
            assertTrue(ex.getMessage().contains("passt binary " + missing + " is missing") && ex.getMessage().contains("'none'"),
                    ex.getMessage());
            report.assertNothingLeft("passt binary missing", spec.vmId(), stateDir, -1);
        }
    }

    @Test
    void qemuBinaryMissing(FaultReport report) throws Exception {
        Path binDir = Files.createTempDirectory(Path.of("/tmp"), "qa-bin-");
        try {
            Path missing = binDir.resolve("no-such-qemu");
            IOException atStart = assertThrows(IOException.class,
                    () -> new QemuEngine(TestImages.config(stateDir).withQemuBinary(missing)));
            assertTrue(atStart.getMessage().contains(missing.toString()) && atStart.getMessage().contains("missing"), atStart.getMessage());

            // The binary vanishes after the engine started (package upgrade, unmounted path).
            Path link = Files.createSymbolicLink(binDir.resolve("qemu-system-x86_64"),
                    EngineConfig.findOnPath("qemu-system-x86_64").orElseThrow());
            try (QemuEngine e = new QemuEngine(TestImages.config(stateDir).withQemuBinary(link))) {
                Files.delete(link);
                VmSpec spec = spec().build();
                VmBootException ex = assertThrows(VmBootException.class, () -> e.boot(spec, l -> { }));
                report.injected("QEMU binary missing (at engine start and vanished before boot)");
                assertEquals(Phase.QEMU_START, ex.phase());
                assertEquals(spec.vmId(), ex.vmId());
                assertTrue(ex.getMessage().contains("QEMU binary " + link + " is missing"), ex.getMessage());
                assertTrue(ex.getMessage().contains("QEMU stderr"), ex.getMessage());
                report.assertNothingLeft("QEMU binary missing", spec.vmId(), stateDir, -1);
            }
        } finally {
            FileTree.delete(binDir);
        }
    }

    @Test
    void baseImageMissing(FaultReport report) throws Exception {
        VmSpec spec = spec().image("ghost").build();
        VmBootException e = assertThrows(VmBootException.class, () -> badCatalogEngine.boot(spec, l -> { }));
        report.injected("base image missing (manifest without its disk)");
        assertEquals(Phase.PREPARE, e.phase());
        assertTrue(e.getMessage().contains("has no disk file " + catalog.toRealPath().resolve("ghost/disk.qcow2")), e.getMessage());
        report.assertNothingLeft("base image missing", spec.vmId(), stateDir, -1);
    }

    @Test
    void baseImageCorruptOrNotQcow2(FaultReport report) throws Exception {
        VmSpec spec = spec().image("broken").build();
        VmBootException e = assertThrows(VmBootException.class, () -> badCatalogEngine.boot(spec, l -> { }));
        report.injected("base image corrupt (random bytes declared as qcow2)");
        assertEquals(Phase.OVERLAY, e.phase());
        assertTrue(e.getMessage().contains("not in qcow2 format"), e.getMessage());
        assertTrue(e.getMessage().contains("image 'broken'"), e.getMessage());
        report.assertNothingLeft("base image corrupt", spec.vmId(), stateDir, -1);
    }

    @Test
    void stateDirectoryNotWritable(FaultReport report) throws Exception {
        Path dir = TestImages.shortTempDir();
        try (QemuEngine e = new QemuEngine(TestImages.config(dir))) {
            FaultFixtures.makeUnwritable(dir);
            try {
                VmSpec spec = spec().build();
                VmBootException ex = assertThrows(VmBootException.class, () -> e.boot(spec, l -> { }));
                report.injected("state directory not writable");
                assertEquals(Phase.PREPARE, ex.phase());
                assertTrue(ex.getMessage().contains("the state directory " + dir + " is not"), ex.getMessage());
                assertTrue(ex.getMessage().contains("not permitted") || ex.getMessage().contains("denied"), ex.getMessage());
                assertEquals(List.of(), TestImages.processesMentioning(spec.vmId()));

                IOException atStart = assertThrows(IOException.class, () -> new QemuEngine(TestImages.config(dir)));
                assertTrue(atStart.getMessage().contains("the state directory " + dir + " is not usable"), atStart.getMessage());
            } finally {
                FaultFixtures.makeWritable(dir);
            }
            report.assertNoFiles("state directory not writable", dir);
        } finally {
            FileTree.delete(dir);
        }
    }

    @Test
    void qmpSocketPathOverTheUnixLimit(FaultReport report) throws Exception {
        // A state directory too long for any VM is refused with the configuration.
        Path tooLong = Path.of("/tmp", "qa-" + "x".repeat(100));
        InvalidInputException config = assertThrows(InvalidInputException.class, () -> TestImages.config(tooLong));
        assertEquals("stateDir", config.field());
        assertTrue(config.getMessage().contains("Unix limit"), config.getMessage());
        assertFalse(Files.exists(tooLong));

        // A state directory that is fine for generated ids, but a long custom VM id pushes the socket over.
        Path dir = Files.createDirectories(Path.of("/tmp", "qa-long-" + "d".repeat(40) + "-" + ProcessHandle.current().pid()));
        try (QemuEngine e = new QemuEngine(TestImages.config(dir))) {
            String longId = "qa-" + "a".repeat(60);
            VmSpec spec = spec().vmId(longId).hostname("qa-long").build();
            VmBootException ex = assertThrows(VmBootException.class, () -> e.boot(spec, l -> { }));
            report.injected("QMP socket path longer than the Unix limit");
            assertEquals(Phase.PREPARE, ex.phase());
            InvalidInputException cause = assertInstanceOf(InvalidInputException.class, ex.getCause());
            assertEquals("vmId", cause.field());
            assertTrue(ex.getMessage().contains("over the Unix limit of 107"), ex.getMessage());
            report.assertNothingLeft("QMP socket path too long", longId, dir, -1);
            assertEquals(List.of(), TestImages.filesBelow(dir));
        } finally {
            FileTree.delete(dir);
        }
    }

    @Test
    void aClashingVmIdNeverRemovesTheOtherVmsFiles(FaultReport report) throws Exception {
        String id = "qa-clash" + ProcessHandle.current().pid();
        Path other = stateDir.resolve(id);
        FileTree.newOwnerOnlyDirectory(other);
        Files.writeString(other.resolve("overlay.qcow2"), "the other VM's disk");
        new StateStore(stateDir).write(VmRecord.create(id, OwnerIdentity.current("someone", new ProcFs()), other.resolve("qmp.sock"),
                other.resolve("overlay.qcow2"), other.resolve("seed.iso"), other.resolve("console.log"), Instant.now()));
        try {
            Vm vm = engine.create(spec().vmId(id).build(), l -> { });
            VmBootException e = assertThrows(VmBootException.class, vm::boot);
            report.injected("VM id clashing with an existing VM folder");
            assertEquals(Phase.PREPARE, e.phase());
            assertTrue(e.getMessage().contains("VM id " + id + " is already in use"), e.getMessage());
            vm.destroy();
            assertEquals("the other VM's disk", Files.readString(other.resolve("overlay.qcow2")), "the other VM's files are untouched");
            assertTrue(Files.exists(other.resolve(StateStore.RECORD)));
        } finally {
            FileTree.delete(other);
        }
        report.assertNothingLeft("VM id clash", id, stateDir, -1);
    }
}
