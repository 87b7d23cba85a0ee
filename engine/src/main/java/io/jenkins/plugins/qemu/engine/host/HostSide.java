package io.jenkins.plugins.qemu.engine.host;

import io.jenkins.plugins.qemu.engine.QemuEngine;
import io.jenkins.plugins.qemu.engine.reaper.ReapReport;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.vm.SnapshotBuildGate;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import io.jenkins.plugins.qemu.engine.warm.Snapshot;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * A host's end of the line: the engine that runs this host's VMs, opened from the controller's
 * {@link HostSetup} in the JVM of the host's agent (one per agent connection, closed with it), and
 * what requests need around it. A host that cannot run VMs (no QEMU, an unusable state directory)
 * still answers: it says why, and tries again at the next probe, so installing QEMU is enough.
 * Opening the engine reaps what an earlier engine on the same state directory left behind (a
 * crashed agent's VMs), which is how a host that comes back cleans up before it takes new VMs.
 */
public final class HostSide implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(HostSide.class.getName());

    /** Opens an engine for a configuration, with the host's snapshot gate; a test opens it as an earlier incarnation. */
    @FunctionalInterface
    public interface EngineOpener {
        QemuEngine open(EngineConfig config, SnapshotBuildGate snapshotGate) throws IOException;
    }

    private final HostSetup setup;
    private final EngineOpener opener;
    private final SnapshotGrants snapshotGrants = new SnapshotGrants();
    private QemuEngine engine;
    private String unusable;
    private boolean closed;
    private ReapReport reapedAtStart = new ReapReport(false, List.of());

    public HostSide(HostSetup setup, EngineOpener opener) {
        this.setup = setup;
        this.opener = opener;
        tryOpen();
    }

    /** The host's side with a plain engine, which builds warm snapshots only when the controller booked them. */
    public static HostSide open(HostSetup setup) {
        return new HostSide(setup, QemuEngine::new);
    }

    public String host() {
        return setup.host();
    }

    public HostSetup setup() {
        return setup;
    }

    /** Why this host cannot run VMs, after one more try to open its engine; null when it can. */
    public synchronized String unusable() {
        if (engine == null && !closed) {
            tryOpen();
        }
        return unusable;
    }

    /** The host's engine, or an exception saying why this host cannot run VMs. */
    public synchronized QemuEngine engine() throws IOException {
        String why = unusable();
        if (why != null) {
            throw new IOException("host " + host() + " cannot run VMs: " + why);
        }
        return engine;
    }

    /** What the engine's start removed: the VMs an earlier engine on this state directory left. */
    public synchronized ReapReport reapedAtStart() {
        return reapedAtStart;
    }

    /** The jars this host was sent, kept in its state directory. */
    public JarStore jars() throws IOException {
        return new JarStore(engine().config().stateDir());
    }

    /** {@code spec} with the agent jar {@code ref} names, as this host's own copies; the spec itself when there is none. */
    VmSpec withAgentJar(VmSpec spec, AgentJarRef ref) throws IOException {
        return ref == null ? spec : spec.toBuilder().agentJar(ref.resolve(jars(), host())).build();
    }

    /**
     * Builds {@code spec}'s warm snapshot now if it is missing or stale, with one snapshot boot
     * admitted for it (the controller booked it), and returns the current one.
     */
    Snapshot buildSnapshot(VmSpec spec) throws IOException, InterruptedException {
        QemuEngine e = engine();
        return snapshotGrants.granted(spec, () -> e.prepareWarmSnapshot(spec));
    }

    /** Snapshot boots admitted and not yet used; for tests. */
    int snapshotGrantsOpen() {
        return snapshotGrants.open();
    }

    /** The running VM {@code vmId} of this host, if it has one. */
    public Optional<Vm> vm(String vmId) throws IOException {
        for (Vm vm : engine().vms()) {
            if (vm.id().equals(vmId)) {
                return Optional.of(vm);
            }
        }
        return Optional.empty();
    }

    private void tryOpen() {
        try {
            engine = opener.open(setup.config(), snapshotGrants);
            unusable = null;
            reapedAtStart = engine.startupReap();
            LOG.info("host " + host() + ": engine open on " + engine.config().stateDir() + " with images in "
                    + engine.config().imagesDir() + (reapedAtStart.reaped().isEmpty() ? ""
                    : "; removed what an earlier engine left: " + String.join(", ", reapedAtStart.reaped())));
        } catch (IOException | RuntimeException e) {
            engine = null;
            unusable = e.getMessage() == null ? e.toString() : e.getMessage();
        }
    }

    /** Destroys every VM of this host's engine and closes it. */
    @Override
    public synchronized void close() throws IOException {
        closed = true;
        unusable = "its engine is closed";
        if (engine != null) {
            engine.close();
            engine = null;
        }
    }
}
