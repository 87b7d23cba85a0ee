package io.jenkins.plugins.qemu.engine.vm;

import io.jenkins.plugins.qemu.engine.image.ImageCatalog;
import io.jenkins.plugins.qemu.engine.image.QemuImg;
import io.jenkins.plugins.qemu.engine.qmp.QmpReactor;
import io.jenkins.plugins.qemu.engine.ssh.GuestSsh;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.state.OwnerIdentity;
import io.jenkins.plugins.qemu.engine.state.ProcFs;
import io.jenkins.plugins.qemu.engine.state.StateStore;

/** The shared collaborators every VM of one engine uses; owned and closed by the engine ({@code QemuEngine}). */
public record EngineContext(EngineConfig config, ImageCatalog catalog, QemuImg qemuImg, AcceleratorProbe probe,
        GuestSsh ssh, QmpReactor reactor, boolean sandbox, ProcFs proc, StateStore states, OwnerIdentity owner,
        ProcessSpawner spawner) {}
