package io.jenkins.plugins.qemu.engine.vm;

import io.jenkins.plugins.qemu.engine.image.ImageCatalog;
import io.jenkins.plugins.qemu.engine.image.QemuImg;
import io.jenkins.plugins.qemu.engine.qmp.QmpReactor;
import io.jenkins.plugins.qemu.engine.ssh.GuestSsh;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * The entry point of the engine: makes VMs from specs and owns what they share (one SSH client,
 * one QMP reader thread, the image catalog, the accelerator decision). Closing it destroys every
 * VM it made that is still alive, so an engine shut down cleanly leaves nothing behind.
 */
public final class QemuEngine implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(QemuEngine.class.getName());

    private final EngineContext ctx;
    private final Set<Vm> vms = ConcurrentHashMap.newKeySet();

    public QemuEngine(EngineConfig config) throws IOException {
        if (!Files.isExecutable(config.qemuBinary())) {
            throw new IOException("QEMU binary " + config.qemuBinary() + " is missing or not executable (install qemu-system-x86)");
        }
        FileTree.ownerOnlyDirectories(config.stateDir());
        QmpReactor reactor = new QmpReactor("qemu-agents-qmp");
        GuestSsh ssh = null;
        try {
            ssh = new GuestSsh();
            this.ctx = new EngineContext(config, new ImageCatalog(config.imagesDir()), new QemuImg(config.qemuImgBinary()),
                    new AcceleratorProbe(config.qemuBinary(), config.stateDir(), Duration.ofSeconds(4), Path.of("/dev/kvm")),
                    ssh, reactor, supportsSandbox(config.qemuBinary()));
        } catch (IOException | RuntimeException e) {
            reactor.close();
            if (ssh != null) {
                ssh.close();
            }
            throw e;
        }
    }

    public EngineConfig config() {
        return ctx.config();
    }

    public ImageCatalog catalog() {
        return ctx.catalog();
    }

    /** A VM not yet booted: call {@link Vm#boot()}; {@link Vm#destroy()} may cancel it from any thread. */
    public Vm create(VmSpec spec, Consumer<String> progress) {
        Vm vm = new Vm(spec, ctx, progress, vms::remove);
        vms.add(vm);
        return vm;
    }

    /** Boots a VM to a verified SSH login; on failure nothing of it is left. */
    public Vm boot(VmSpec spec, Consumer<String> progress) throws VmBootException, InterruptedException {
        Vm vm = create(spec, progress);
        vm.boot();
        return vm;
    }

    public List<Vm> vms() {
        return new ArrayList<>(vms);
    }

    @Override
    public void close() throws IOException {
        for (Vm vm : vms()) {
            vm.destroy();
        }
        try {
            ctx.ssh().close();
        } finally {
            ctx.reactor().close();
        }
    }

    /** QEMU built without seccomp rejects -sandbox; ask it once instead of failing every boot. */
    private static boolean supportsSandbox(Path qemu) throws IOException {
        Process p = new ProcessBuilder(qemu.toString(), "-help").redirectErrorStream(true).start();
        try (InputStream in = p.getInputStream()) {
            String help = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(10, TimeUnit.SECONDS);
            boolean supported = help.contains("-sandbox");
            if (!supported) {
                LOG.warning(qemu + " has no -sandbox support (built without seccomp); VMs run without it");
            }
            return supported;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while asking " + qemu + " for its options", e);
        } finally {
            p.destroyForcibly();
        }
    }
}
