package io.jenkins.plugins.qemu.engine.vm;

import com.fasterxml.jackson.databind.JsonNode;
import io.jenkins.plugins.qemu.engine.image.BaseImage;
import io.jenkins.plugins.qemu.engine.image.Overlay;
import io.jenkins.plugins.qemu.engine.net.GuestNetwork;
import io.jenkins.plugins.qemu.engine.qmp.QmpClient;
import io.jenkins.plugins.qemu.engine.seed.CloudInitConfig;
import io.jenkins.plugins.qemu.engine.seed.FwCfgIdentity;
import io.jenkins.plugins.qemu.engine.seed.GuestIdentity;
import io.jenkins.plugins.qemu.engine.seed.SeedIso;
import io.jenkins.plugins.qemu.engine.seed.SystemdCredentials;
import io.jenkins.plugins.qemu.engine.ssh.GuestSsh;
import io.jenkins.plugins.qemu.engine.ssh.SshKeyPair;
import io.jenkins.plugins.qemu.engine.state.ProcessStat;
import io.jenkins.plugins.qemu.engine.state.VmDir;
import io.jenkins.plugins.qemu.engine.state.VmRecord;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * The boot of one VM as lists of named steps, and what those steps make. The cold boot and the
 * restore of a warm snapshot are two lists over the same steps (overlay, keys, QEMU, QMP, port,
 * login), composed the way firecracker-go-sdk builds its handler lists; a later step, such as a
 * network helper started before QEMU, is one more entry. Every resource a step makes goes to
 * {@link Resources} at once, so a destroy at any moment releases exactly what exists.
 */
final class VmBoot {
    private static final Logger LOG = Logger.getLogger(VmBoot.class.getName());

    final VmSpec spec;
    final VmDir dir;
    final PhaseTimings timings = new PhaseTimings();
    final Resources resources;
    private final EngineContext ctx;
    private final boolean warmPrep;
    /** Started to outlive this engine (see VmSpec#lease); never a warm-snapshot boot, which no one adopts. */
    final boolean leased;

    volatile boolean cancelled;
    volatile Phase phase = Phase.PREPARE;
    /** The last boot phase begun; unlike {@link #phase} it does not turn into DESTROY when a boot is cancelled. */
    volatile Phase bootPhase = Phase.PREPARE;
    volatile BaseImage image;
    volatile AccelDecision accel;
    volatile SshKeyPair clientKey;
    volatile SshKeyPair hostKey;
    /** The pinned host key of an adopted VM, whose private half this engine never had. */
    volatile java.security.PublicKey adoptedHostKey;
    volatile Overlay overlay;
    private volatile GuestIdentity seed;
    volatile VmProcess process;
    volatile QmpClient qmp;
    volatile int sshPort = -1;
    volatile boolean cloudInit;
    volatile GuestNetwork network;
    /** The connection of the login that made the VM online; owned by {@link #resources}. */
    private volatile GuestSsh.Connection session;
    volatile Path keptConsole;
    /** Set by the first destroy: whether QEMU is asked to power off (RUNNING) before it is quit. */
    volatile boolean graceful;
    private volatile Instant qemuStart;
    private VmRecord record; // guarded by resources

    VmBoot(VmSpec spec, EngineContext ctx, boolean warmPrep) {
        this.spec = spec;
        this.ctx = ctx;
        this.warmPrep = warmPrep;
        this.leased = spec.leased() && !warmPrep;
        this.dir = new VmDir(ctx.config().stateDir(), spec.vmId());
        this.resources = new Resources(spec.vmId());
    }

    /** Before the cold/warm choice: the folder, a record the reaper can find, the image and the accelerator. */
    List<BootStep> prepare() {
        return List.of(new BootStep(Phase.PREPARE, this::prepareFolder));
    }

    List<BootStep> cold(Instant deadline) {
        List<BootStep> steps = new ArrayList<>(List.of(
                new BootStep(Phase.OVERLAY, () -> createOverlay(image, spec.diskSizeMiB())),
                new BootStep(Phase.SEED, this::writeSeed),
                new BootStep(Phase.NETWORK, () -> startNetwork(deadline)),
                new BootStep(Phase.QEMU_START, () -> startQemu(warmPrep ? new QemuCommand.Warm(dir.identitySocket(), false, false) : null, null)),
                new BootStep(Phase.QMP, () -> connectQmp(deadline)),
                new BootStep(Phase.PORT, this::readPort),
                new BootStep(Phase.SSH, () -> awaitSsh(deadline, false))));
        // A restored clone has the egress NIC as its snapshot's boot left it; a cold boot sets it (or sees networkd did).
        if (GuestNetwork.guestSetup(spec.egress()) != null) {
            steps.add(new BootStep(Phase.EGRESS, () -> configureEgress(seed instanceof SystemdCredentials
                    ? GuestNetwork.guestSetupUnlessDone(spec.egress()) : GuestNetwork.guestSetup(spec.egress()), deadline)));
        }
        return steps;
    }

    /** Overlay on the snapshot's frozen layer, QEMU paused with the saved state, cont, identity, login. */
    List<BootStep> restore(WarmStart.Restore saved, Instant deadline) {
        return List.of(
                new BootStep(Phase.OVERLAY, () -> createOverlay(image.withDisk(saved.disk(), "qcow2"), 0)),
                new BootStep(Phase.SEED, this::newKeys),
                new BootStep(Phase.NETWORK, () -> startNetwork(deadline)),
                new BootStep(Phase.QEMU_START, () -> startQemu(new QemuCommand.Warm(dir.identitySocket(), true,
                        image.snapshotBootUsesSeed()), saved.state())),
                new BootStep(Phase.QMP, () -> connectQmp(deadline)),
                new BootStep(Phase.PORT, this::readPort),
                new BootStep(Phase.RESTORE, () -> QemuControl.loadState(qmp, process, deadline)),
                new BootStep(Phase.IDENTITY, () -> saved.deliverIdentity(dir.identitySocket(), spec, clientKey.publicKeyLine(),
                        hostKey, remaining(deadline, Duration.ofMinutes(2)))),
                new BootStep(Phase.SSH, () -> awaitSsh(deadline, true)));
    }

    void run(List<BootStep> steps) throws Exception {
        for (BootStep s : steps) {
            if (cancelled) {
                throw new InterruptedException("cancelled before " + s.phase().description());
            }
            phase = s.phase();
            bootPhase = s.phase();
            LOG.fine(() -> "[" + spec.vmId() + "] " + s.phase().description());
            Instant t = Instant.now();
            s.action().run();
            timings.record(s.phase(), Duration.between(t, Instant.now()));
        }
    }

    private void prepareFolder() throws Exception {
        dir.checkSockets();
        dir.create();
        resources.add("state folder " + dir, this::removeFolder);
        // Written before QEMU exists, so a JVM that dies from here on leaves a record the reaper finds.
        VmRecord r = VmRecord.create(spec.vmId(), ctx.owner(), dir.qmpSocket(), dir.overlay(), dir.seed(), dir.console(), Instant.now())
                .withGuest(spec.image(), spec.user(), spec.template()).withHostPorts(spec.egress().hostPorts());
        writeRecord(leased ? r.withLease(spec.lease(), Instant.now().plus(spec.lease())) : r);
        image = ctx.catalog().resolve(spec.image());
        accel = ctx.probe().decide(spec.accel(), image);
    }

    private void createOverlay(BaseImage base, long sizeMiB) throws Exception {
        Overlay o = Overlay.create(ctx.qemuImg(), base, dir.overlay(), sizeMiB);
        resources.add("overlay " + o.file(), o::close);
        overlay = o;
    }

    private void newKeys() {
        clientKey = SshKeyPair.generate("qemu-agents@" + spec.vmId());
        hostKey = SshKeyPair.generate("root@" + spec.hostname());
    }

    /**
     * The fast path when the image has our boot unit and nothing but the identity is asked of the
     * guest; for other images whose systemd can take it, the identity as systemd credentials; extra cloud-config needs cloud-init, so it always goes through the NoCloud seed, and
     * so does the snapshot boot of an image without our identity service, which it installs.
     */
    private void writeSeed() throws Exception {
        newKeys();
        boolean plain = spec.extraUserData() == null || spec.extraUserData().isBlank();
        boolean installService = warmPrep && !image.warmStart();
        GuestIdentity s;
        if (image.fastPath() && plain && !installService) {
            s = FwCfgIdentity.write(dir.identity(), spec.hostname(), spec.user(), clientKey.publicKeyLine(), hostKey, spec.sudo(),
                    overlay.grown());
        } else if (image.systemdCredentials() && plain && !installService && !overlay.grown()) {
            // A grown disk needs cloud-init's growpart, which the credentials cannot ask for.
            s = SystemdCredentials.write(dir.identity(), spec.hostname(), spec.user(), clientKey.publicKeyLine(), hostKey, spec.sudo(),
                    GuestNetwork.networkdEgress(spec.egress()), accel.accel() == Accel.TCG);
        } else {
            cloudInit = true;
            CloudInitConfig config = new CloudInitConfig(spec.vmId(), spec.hostname(), spec.user(), clientKey.publicKeyLine(), hostKey,
                    spec.sudo(), spec.extraUserData(), overlay.grown());
            s = SeedIso.write(installService ? config.installingWarmStartService() : config, dir.seed());
        }
        resources.add("seed " + s, s::close);
        seed = s;
    }

    /**
     * The VM's network before its QEMU, which connects to the helper at start. Each helper pid is
     * recorded the moment it exists, so a JVM that dies from here on leaves it to the reaper; it is
     * released after QEMU (the stack is last in, first out), when it would go by itself anyway.
     */
    private void startNetwork(Instant deadline) throws Exception {
        GuestNetwork n = new GuestNetwork(spec.egress(), dir.netSocket(), dir.netStderr(), ctx.config().passtBinary(), spec.vmId());
        resources.add("network " + dir.netSocket(), n::close);
        network = n;
        n.start((builder, argv) -> ctx.spawner().start(builder, argv, !leased), this::recordHelper, deadline);
    }

    private void recordHelper(long pid) throws IOException, InterruptedException {
        try {
            writeRecord(currentRecord().withHelper(pid, ctx.proc().stat(pid).map(ProcessStat::startTime).orElse(0L)));
        } catch (IOException | InterruptedException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    private void configureEgress(String setup, Instant deadline) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int rc;
        try (GuestSsh.Connection c = connection(remaining(deadline, Duration.ofSeconds(30)))) {
            rc = c.exec(setup, null, out, out, remaining(deadline, Duration.ofSeconds(30)));
        }
        if (rc != 0) {
            throw new IOException("configuring the egress NIC in the guest failed (exit " + rc + "): "
                    + out.toString(StandardCharsets.UTF_8).strip());
        }
    }

    /**
     * The host ports the egress policy allows, relayed over SSH (see GuestSsh#relayHostPorts),
     * once the guest is online on either path. Pushed last, so released first: a session to a guest
     * that is powering off would only hang on its way down.
     */
    void relayHostPorts(Instant deadline) throws Exception {
        List<Integer> ports = spec.egress().hostPorts();
        if (ports.isEmpty()) {
            return;
        }
        AutoCloseable r = ctx.ssh().relayHostPorts(sshTarget(), ports, remaining(deadline, Duration.ofSeconds(30)));
        resources.add("host port relay " + ports, r::close, r::close);
        LOG.fine(() -> "[" + spec.vmId() + "] host ports " + ports + " reachable at the guest's 127.0.0.1");
    }

    /** With {@code stdin} set, QEMU reads a saved state from it and the guest's identity comes later, over the port. */
    private void startQemu(QemuCommand.Warm warmDevices, Path stdin) throws Exception {
        List<String> argv = QemuCommand.build(ctx.config().qemuBinary(), spec, image, accel,
                new QemuCommand.Files(overlay.file(), dir.console(), dir.qmpSocket()), stdin == null ? seed : null, ctx.sandbox(), warmDevices);
        if (!Files.isExecutable(ctx.config().qemuBinary())) {
            throw new IOException("QEMU binary " + ctx.config().qemuBinary() + " is missing or not executable");
        }
        LOG.fine(() -> "[" + spec.vmId() + "] " + String.join(" ", argv));
        VmProcess p = VmProcess.start(argv, dir.stderr(), ctx.spawner(), stdin, !leased);
        resources.add("QEMU pid " + p.pid(), () -> QemuControl.kill(spec.vmId(), p));
        process = p;
        long startTime = ctx.proc().stat(p.pid()).map(ProcessStat::startTime).orElse(0L);
        writeRecord(currentRecord().withQemu(p.pid(), startTime));
        qemuStart = Instant.now();
    }

    private void connectQmp(Instant deadline) throws Exception {
        VmProcess p = process;
        Path socket = dir.qmpSocket();
        while (!Files.exists(socket)) {
            if (!p.isAlive()) {
                throw new IOException("QEMU exited with code " + p.exitCode() + " before opening its QMP socket");
            }
            if (cancelled) {
                throw new InterruptedException("cancelled");
            }
            if (!Instant.now().isBefore(deadline)) {
                throw new IOException("QEMU did not open its QMP socket " + socket);
            }
            Thread.sleep(5);
        }
        dir.restrictSockets();
        QmpClient q = QmpClient.connect(socket, remaining(deadline, Duration.ofSeconds(10)), ctx.reactor());
        // Released before the process: its last use is to ask QEMU to power off or quit.
        resources.add("QMP " + socket, () -> {
            try {
                QemuControl.stop(spec.vmId(), p, q, graceful ? spec.shutdownGrace() : null);
            } finally {
                q.close();
            }
        }, q::close);
        qmp = q;
    }

    private void readPort() throws Exception {
        JsonNode usernet = qmp.execute("human-monitor-command", Map.of("command-line", "info usernet"), Duration.ofSeconds(10));
        OptionalInt port = ForwardedPort.parse(usernet.asText(), 22);
        if (port.isEmpty()) {
            throw new IOException("QEMU reported no forwarded port for guest port 22: " + usernet.asText().strip());
        }
        sshPort = port.getAsInt();
        writeRecord(currentRecord().withSshPort(sshPort));
    }

    /** {@code listening}: sshd is known to listen already, so the first attempt is a login (see GuestSsh). */
    private void awaitSsh(Instant deadline, boolean listening) throws Exception {
        VmProcess p = process;
        Path console = dir.console();
        AtomicBoolean consoleSeen = new AtomicBoolean();
        GuestNetwork n = network;
        GuestSsh.Connection c = ctx.ssh().awaitSession(sshTarget(), deadline, ctx.config().sshRetryPause(), () -> {
            if (!consoleSeen.get() && sizeOf(console) > 0) {
                consoleSeen.set(true);
                timings.record(Phase.FIRST_CONSOLE, Duration.between(qemuStart, Instant.now()));
            }
            return cancelled || !p.isAlive() || n != null && n.failure() != null;
        }, listening);
        resources.add("SSH session to " + sshTarget().port(), c::close, c::close);
        session = c;
    }

    /** Ends the login's kept connection. */
    void dropSession() {
        GuestSsh.Connection c = session;
        session = null;
        if (c != null) {
            c.close();
        }
    }

    /** The login's kept connection, borrowed, or null if there is none now; never a new login. */
    GuestSsh.Connection keptSession() {
        GuestSsh.Connection c = session;
        return c != null && c.isOpen() ? c.borrowed() : null;
    }

    /**
     * The login's connection, kept for the VM's commands (see GuestSsh#awaitSession), or a new one
     * if the guest ended it; the caller closes what it gets, which leaves the kept one open.
     */
    GuestSsh.Connection connection(Duration timeout) throws IOException {
        GuestSsh.Connection c = keptSession();
        return c != null ? c : ctx.ssh().connect(sshTarget(), timeout);
    }

    EngineContext ctx() {
        return ctx;
    }

    GuestSsh.Target sshTarget() {
        return new GuestSsh.Target("127.0.0.1", sshPort, spec.user(), clientKey, hostKey != null ? hostKey.publicKey() : adoptedHostKey);
    }

    /** After a failed restore: what the attempt made goes (back to {@code mark}), so the cold boot starts clean. */
    void releaseAttempt(int mark) {
        resources.releaseTo(mark);
        session = null;
        network = null;
        process = null;
        qmp = null;
        overlay = null;
        sshPort = -1;
        try {
            dir.removeQemuFiles();
        } catch (IOException e) {
            LOG.fine(() -> "[" + spec.vmId() + "] " + e);
        }
    }

    /** The folder goes last, after QEMU is gone; a kept console is moved out first. */
    void removeFolder() {
        if (spec.keepConsole()) {
            try {
                keptConsole = dir.keepConsole();
            } catch (IOException e) {
                LOG.warning("[" + spec.vmId() + "] cannot keep console log: " + e.getMessage());
            }
        }
        IOException failed = dir.delete();
        if (failed != null) {
            LOG.warning("[" + spec.vmId() + "] cannot remove " + dir + ": " + failed);
        }
    }

    VmRecord currentRecord() {
        synchronized (resources) {
            return record;
        }
    }

    /** Never after destroy() began, so no record reappears in a folder being deleted. */
    void writeRecord(VmRecord r) throws Exception {
        resources.whileOpen(() -> {
            try {
                ctx.states().write(r);
            } catch (IOException e) {
                throw new IOException("cannot write the VM record in " + dir + ": " + VmDir.why(e), e);
            }
            record = r;
        });
    }

    private static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    static Duration remaining(Instant deadline, Duration cap) {
        Duration left = Duration.between(Instant.now(), deadline);
        return left.compareTo(cap) > 0 ? cap : left.isNegative() ? Duration.ofMillis(1) : left;
    }
}
