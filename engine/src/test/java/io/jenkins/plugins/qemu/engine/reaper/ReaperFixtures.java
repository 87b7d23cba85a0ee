package io.jenkins.plugins.qemu.engine.reaper;

import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.state.OwnerIdentity;
import io.jenkins.plugins.qemu.engine.state.ProcFs;
import io.jenkins.plugins.qemu.engine.state.ProcessStat;
import io.jenkins.plugins.qemu.engine.state.StateStore;
import io.jenkins.plugins.qemu.engine.state.VmRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds reaper situations without booting a guest: VM folders with hand-written records, idle
 * QEMU processes ({@code -machine none}, which start in milliseconds and answer QMP), and owners
 * that are provably dead. Every process made here is the caller's to kill, by its own handle.
 */
public final class ReaperFixtures {
    private ReaperFixtures() {}

    public static EngineConfig config(Path stateDir, String ownerId) {
        return EngineConfig.defaults(Path.of("/tmp"), ownerId).withStateDir(stateDir);
    }

    /** This JVM's pid with another start time: an earlier incarnation that is certainly gone. */
    public static OwnerIdentity deadOwner(String ownerId) {
        ProcFs proc = new ProcFs();
        ProcessStat self = proc.self();
        return new OwnerIdentity(ownerId, self.pid(), self.startTime() - 1, proc.bootId());
    }

    public static OwnerIdentity liveOwner(String ownerId) {
        return OwnerIdentity.current(ownerId, new ProcFs());
    }

    /** A VM folder with a record claiming {@code pid}/{@code startTime} as its QEMU (0 = not started). */
    public static VmRecord record(Path stateDir, String vmId, OwnerIdentity owner, long pid, long startTime, Instant created)
            throws IOException {
        FileTree.ownerOnlyDirectories(stateDir);
        Path dir = stateDir.resolve(vmId);
        if (!Files.isDirectory(dir)) {
            FileTree.newOwnerOnlyDirectory(dir);
        }
        VmRecord r = VmRecord.create(vmId, owner, dir.resolve("qmp.sock"), dir.resolve("overlay.qcow2"), dir.resolve("seed.iso"),
                dir.resolve("console.log"), created).withQemu(pid, startTime);
        new StateStore(stateDir).write(r);
        return r;
    }

    /** Placeholder files as a VM would have them. */
    public static void vmFiles(Path dir) throws IOException {
        for (String f : List.of("overlay.qcow2", "seed.iso", "console.log", "qemu.stderr")) {
            Files.writeString(dir.resolve(f), "x");
        }
    }

    /**
     * An idle QEMU named like one of our VMs when {@code vmId} is given ({@code -name <vmId>,process=qemu-<vmId>}),
     * or with a foreign name otherwise, its QMP socket at {@code socket}.
     */
    public static Process idleQemu(String name, boolean likeOurs, Path socket) throws IOException, InterruptedException {
        Path qemu = EngineConfig.findOnPath("qemu-system-x86_64").orElseThrow();
        List<String> argv = new ArrayList<>(List.of(qemu.toString(), "-machine", "none", "-display", "none", "-nodefaults",
                "-no-user-config", "-name", likeOurs ? name + ",process=qemu-" + name : name,
                "-qmp", "unix:" + socket + ",server=on,wait=off"));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!Files.exists(socket)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                p.destroyForcibly();
                throw new IOException("idle QEMU did not open " + socket);
            }
            Thread.sleep(10);
        }
        return p;
    }

    public static ProcessStat stat(long pid) {
        return new ProcFs().stat(pid).orElseThrow(() -> new IllegalStateException("no process " + pid));
    }

    public static boolean alive(long pid) {
        return new ProcFs().stat(pid).map(s -> !s.zombie()).orElse(false);
    }

    public static void kill(Process p) throws InterruptedException {
        if (p != null) {
            p.destroyForcibly();
            p.waitFor();
        }
    }
}
