package io.jenkins.plugins.qemu.engine.vm;

import com.fasterxml.jackson.databind.JsonNode;
import io.jenkins.plugins.qemu.engine.InvalidInputException;
import io.jenkins.plugins.qemu.engine.image.BaseImage;
import io.jenkins.plugins.qemu.engine.image.Overlay;
import io.jenkins.plugins.qemu.engine.net.GuestNetwork;
import io.jenkins.plugins.qemu.engine.qmp.QmpClient;
import io.jenkins.plugins.qemu.engine.reaper.ProcessStat;
import io.jenkins.plugins.qemu.engine.reaper.StateStore;
import io.jenkins.plugins.qemu.engine.reaper.VmRecord;
import io.jenkins.plugins.qemu.engine.seed.CloneIdentity;
import io.jenkins.plugins.qemu.engine.seed.CloudInitConfig;
import io.jenkins.plugins.qemu.engine.snapshot.Snapshot;
import io.jenkins.plugins.qemu.engine.seed.FwCfgIdentity;
import io.jenkins.plugins.qemu.engine.seed.GuestIdentity;
import io.jenkins.plugins.qemu.engine.seed.SeedIso;
import io.jenkins.plugins.qemu.engine.ssh.GuestSsh;
import io.jenkins.plugins.qemu.engine.ssh.SshKeyPair;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One throw-away VM and the single owner of everything it uses: its state directory, overlay,
 * seed, network (and its helper process), QEMU process, QMP connection and forwarded port.
 * {@link #boot()} runs the phases in the caller's thread; {@link #destroy()} may be called from
 * any thread at any time, also while the boot is still running (which cancels it), and releases
 * everything exactly once.
 */
public final class Vm implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Vm.class.getName());
    private static final int TAIL_LINES = 25;
    static final String IDENTITY_SOCKET = "ident.sock";
    private static final Duration RESTORE_BUDGET = Duration.ofMinutes(2);
    private static final Duration SETTLE = Duration.ofSeconds(1);
    private static final long MIGRATION_BANDWIDTH = 64L << 30;

    private final VmSpec spec;
    private final EngineContext ctx;
    private final Consumer<String> progress;
    private final Consumer<Vm> onDestroyed;
    private final Path dir;
    private final PhaseTimings timings = new PhaseTimings();
    private final AtomicBoolean bootStarted = new AtomicBoolean();
    private final AtomicBoolean destroyStarted = new AtomicBoolean();
    private final CompletableFuture<Void> destroyed = new CompletableFuture<>();
    private final Object lock = new Object();

    // Resources, set under lock as they come to exist so destroy() sees each one exactly once.
    private Overlay overlay;
    private GuestIdentity seed;
    private VmProcess process;
    private QmpClient qmp;
    private GuestNetwork network;
    private AutoCloseable hostPortRelay;
    private volatile boolean cancelled;
    private volatile int sshPort = -1;
    private volatile Phase phase = Phase.PREPARE;
    /** The last boot phase begun; unlike {@link #phase} it does not turn into DESTROY when a boot is cancelled. */
    private volatile Phase bootPhase = Phase.PREPARE;
    private volatile SshKeyPair clientKey;
    private volatile SshKeyPair hostKey;
    private volatile AccelDecision accel;
    private volatile Path keptConsole;
    /** Only a folder this VM created is deleted by it: a clashing VM id must not remove another VM's files. */
    private volatile boolean dirCreated;
    private VmRecord record; // guarded by lock
    /** Set for the one boot per template that is saved as its warm snapshot. */
    private final boolean warmPrep;
    private final WarmStarts warm;
    private volatile BaseImage baseImage;
    private volatile Snapshot restoredFrom;
    private volatile String coldReason;
    private volatile boolean cloudInit;

    Vm(VmSpec spec, EngineContext ctx, Consumer<String> progress, Consumer<Vm> onDestroyed) {
        this(spec, ctx, progress, onDestroyed, null, false);
    }

    Vm(VmSpec spec, EngineContext ctx, Consumer<String> progress, Consumer<Vm> onDestroyed, WarmStarts warm, boolean warmPrep) {
        this.warm = warm;
        this.warmPrep = warmPrep;
        this.onDestroyed = onDestroyed;
        this.spec = spec;
        this.ctx = ctx;
        this.progress = progress == null ? s -> { } : progress;
        this.dir = ctx.config().stateDir().resolve(spec.vmId());
    }

    public VmSpec spec() { return spec; }
    public String id() { return spec.vmId(); }
    public Phase phase() { return phase; }
    public PhaseTimings timings() { return timings; }
    public Path stateDir() { return dir; }
    public Path consoleFile() { return keptConsole != null ? keptConsole : dir.resolve("console.log"); }
    public AccelDecision accelerator() { return accel; }
    /** The base image as resolved at boot. */
    public BaseImage baseImage() { return baseImage; }
    /** Whether this VM is the engine's own boot of a template, to be saved as its warm snapshot. */
    public boolean warmSnapshotBoot() { return warmPrep; }
    /** Whether this VM was restored from a warm snapshot rather than booted. */
    public boolean restored() { return restoredFrom != null; }
    /** Whether the guest was configured by cloud-init from a seed (not by the fast path or a restore). */
    public boolean usedCloudInit() { return cloudInit; }
    /** Why a VM that asked for a warm start was booted cold; null if it was not. */
    public String coldBootReason() { return coldReason; }

    Path identitySocket() {
        return dir.resolve(IDENTITY_SOCKET);
    }

    private static Instant earliest(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    /** The forwarded SSH port on 127.0.0.1, once known. */
    public int sshPort() {
        return sshPort;
    }

    /** The client key that logs in as the agent user; held in memory only. */
    public SshKeyPair clientKey() {
        return clientKey;
    }

    /** The guest's host key as we generated and pinned it, e.g. for Jenkins' key verification. */
    public String hostKeyLine() {
        return hostKey == null ? null : SshKeyPair.publicKeyLine(hostKey.publicKey());
    }

    public long pid() {
        VmProcess p = process;
        return p == null ? -1 : p.pid();
    }

    /** The network helper's pid (passt), or -1 if this VM has none. */
    public long helperPid() {
        GuestNetwork n = network;
        return n == null ? -1 : n.helperPid();
    }

    public boolean isAlive() {
        VmProcess p = process;
        return p != null && p.isAlive() && !destroyStarted.get();
    }

    public GuestSsh.Target sshTarget() {
        return new GuestSsh.Target("127.0.0.1", sshPort, spec.user(), clientKey, hostKey.publicKey());
    }

    /** Runs a command in the guest over SSH, streaming its output; returns its exit status. */
    public int exec(String command, OutputStream out, OutputStream err, Duration timeout) throws IOException {
        if (phase != Phase.RUNNING) {
            throw new IllegalStateException("VM " + id() + " is not running (phase " + phase + ")");
        }
        return ctx.ssh().exec(sshTarget(), command, out, err, timeout);
    }

    /**
     * Boots the VM to a verified SSH login. On any failure, everything is released before the
     * exception is thrown, and the exception names the VM, the phase and the tails of QEMU's
     * stderr and the guest console.
     */
    public void boot() throws VmBootException, InterruptedException {
        if (!bootStarted.compareAndSet(false, true)) {
            throw new IllegalStateException("VM " + id() + " was already booted");
        }
        Instant start = Instant.now();
        Instant deadline = start.plus(spec.bootTimeout());
        try {
            begin(Phase.PREPARE);
            Instant t = Instant.now();
            Path socket = dir.resolve("qmp.sock");
            // The longest of the VM's socket names decides (QMP, identity port, snapshot migration).
            checkSocketPath(dir.resolve("migrate.sock"));
            createDirectory();
            // Written before QEMU exists, so a JVM that dies from here on leaves a record the reaper finds.
            writeRecord(VmRecord.create(id(), ctx.owner(), socket, dir.resolve("overlay.qcow2"), dir.resolve("seed.iso"),
                    dir.resolve("console.log"), Instant.now()));
            BaseImage image = ctx.catalog().resolve(spec.image());
            baseImage = image;
            accel = ctx.probe().decide(spec.accel(), image);
            end(Phase.PREPARE, t);

            boolean online = false;
            if (!warmPrep && spec.warmStart() && warm != null) {
                WarmStarts.Choice choice = warm.chooseOrBuild(spec, image, accel);
                if (choice.snapshot() != null) {
                    online = tryRestore(image, choice.snapshot(), deadline);
                } else {
                    coldReason = choice.reason();
                    String line = "[" + id() + "] cold boot: " + choice.reason();
                    LOG.info(line);
                    progress.accept(line);
                }
            }
            if (!online) {
                coldBoot(image, deadline);
            }
            relayHostPorts(deadline);
            synchronized (lock) {
                // A destroy that began during the last SSH attempt wins; never report it as running.
                if (destroyStarted.get()) {
                    throw new InterruptedException("cancelled");
                }
                phase = Phase.RUNNING;
            }
            String line = "[" + id() + "] online on 127.0.0.1:" + sshPort + " in " + PhaseTimings.millis(timings.timeToOnline())
                    + " (" + (restoredFrom != null ? "restored from warm snapshot " + restoredFrom.key().slot() + ", " : "cold boot, ")
                    + accel.accel() + "; " + timings + ")";
            LOG.info(line);
            progress.accept(line);
        } catch (Exception e) {
            Duration elapsed = Duration.between(start, Instant.now());
            Phase failed = bootPhase;
            String reason = reason(e, deadline);
            String stderr = Tail.of(dir.resolve("qemu.stderr"), TAIL_LINES);
            String console = Tail.of(dir.resolve("console.log"), TAIL_LINES);
            VmBootException ex = new VmBootException(id(), failed, elapsed, reason, stderr, console, e);
            LOG.log(Level.WARNING, "[" + id() + "] boot failed in phase " + failed + " after " + PhaseTimings.millis(elapsed) + ": " + reason);
            progress.accept("[" + id() + "] boot failed while " + failed.description() + ": " + reason);
            destroy();
            if (e instanceof InterruptedException && !cancelled) {
                Thread.currentThread().interrupt();
            }
            throw ex;
        }
    }

    /**
     * Restores {@code snapshot}; on failure releases what the attempt made and returns false so the
     * caller boots cold. A snapshot QEMU refused to load is discarded and rebuilt. A cancel is not
     * a failure of the snapshot and is passed on.
     */
    private boolean tryRestore(BaseImage image, Snapshot snapshot, Instant deadline) throws Exception {
        // Leave the cold boot most of the budget: a restore that has not worked by then will not.
        Instant restoreStart = Instant.now();
        Instant restoreDeadline = earliest(deadline, restoreStart.plus(RESTORE_BUDGET));
        try {
            restore(image, snapshot, restoreDeadline);
            restoredFrom = snapshot;
            return true;
        } catch (Exception e) {
            if (cancelled || e instanceof InterruptedException) {
                throw e;
            }
            // QEMU dead while loading means it rejected the state; anything else is no verdict on the
            // snapshot. It may still be exiting when its QMP connection drops, hence the short wait.
            VmProcess p = process;
            boolean rejected = bootPhase == Phase.RESTORE && p != null && p.waitFor(Duration.ofSeconds(3));
            String why = "while " + bootPhase.description() + ": " + (Instant.now().isBefore(restoreDeadline)
                    ? reason(e, restoreDeadline)
                    : "no login within the restore budget of " + Duration.between(restoreStart, restoreDeadline).toSeconds() + " s: " + e.getMessage());
            String stderr = Tail.of(dir.resolve("qemu.stderr"), 5).strip();
            if (!stderr.isEmpty()) {
                why += " (QEMU: " + stderr.replace('\n', ' ') + ")";
            }
            coldReason = "restore failed " + why;
            String line = "[" + id() + "] warm snapshot " + snapshot.key().slot() + " did not restore " + why + "; falling back to a cold boot";
            LOG.warning(line);
            progress.accept(line);
            releaseAttempt();
            warm.restoreFailed(snapshot, why, spec, rejected);
            return false;
        }
    }

    private void coldBoot(BaseImage image, Instant deadline) throws Exception {
        Path console = dir.resolve("console.log");
        begin(Phase.OVERLAY);
        Instant t = Instant.now();
        Overlay o = Overlay.create(ctx.qemuImg(), image, dir.resolve("overlay.qcow2"), spec.diskSizeMiB());
        register(() -> overlay = o, o);
        t = end(Phase.OVERLAY, t);

        begin(Phase.SEED);
        clientKey = SshKeyPair.generate("qemu-agents@" + id());
        hostKey = SshKeyPair.generate("root@" + spec.hostname());
        GuestIdentity s = identity(image);
        register(() -> seed = s, s);
        t = end(Phase.SEED, t);

        t = startNetwork(deadline);
        begin(Phase.QEMU_START);
        QemuCommand.Warm warmDevices = warmPrep ? new QemuCommand.Warm(identitySocket(), false) : null;
        List<String> argv = QemuCommand.build(ctx.config().qemuBinary(), spec, image, accel,
                new QemuCommand.Files(o.file(), console, dir.resolve("qmp.sock")), s, ctx.sandbox(), warmDevices);
        VmProcess p = startQemu(argv, null);
        Instant qemuStart = Instant.now();
        t = end(Phase.QEMU_START, t);

        QmpClient q = connectQmp(p, deadline);
        t = readPort(q);
        awaitSsh(p, qemuStart, deadline, t);
        configureEgress(deadline);
    }

    /** The host ports the egress policy allows, relayed over SSH (see GuestSsh#relayHostPorts). */
    private void relayHostPorts(Instant deadline) throws Exception {
        List<Integer> ports = spec.egress().hostPorts();
        if (ports.isEmpty()) {
            return;
        }
        AutoCloseable r = ctx.ssh().relayHostPorts(sshTarget(), ports, remaining(deadline, Duration.ofSeconds(30)));
        register(() -> hostPortRelay = r, r);
        LOG.fine(() -> "[" + id() + "] host ports " + ports + " reachable at the guest's 127.0.0.1");
    }

    /** A restored clone has the configuration of the boot its snapshot was saved from, so only cold boots need this. */
    private void configureEgress(Instant deadline) throws Exception {
        String setup = GuestNetwork.guestSetup(spec.egress());
        if (setup == null) {
            return;
        }
        begin(Phase.EGRESS);
        Instant t = Instant.now();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int rc = ctx.ssh().exec(sshTarget(), setup, out, out, remaining(deadline, Duration.ofSeconds(30)));
        if (rc != 0) {
            throw new IOException("configuring the egress NIC in the guest failed (exit " + rc + "): "
                    + out.toString(StandardCharsets.UTF_8).strip());
        }
        end(Phase.EGRESS, t);
    }

    /** Overlay on the snapshot's frozen layer, QEMU paused with the saved state, cont, identity, login. */
    private void restore(BaseImage image, Snapshot snapshot, Instant deadline) throws Exception {
        Path console = dir.resolve("console.log");
        begin(Phase.OVERLAY);
        Instant t = Instant.now();
        Overlay o = Overlay.create(ctx.qemuImg(), image.withDisk(snapshot.disk(), "qcow2"), dir.resolve("overlay.qcow2"));
        register(() -> overlay = o, o);
        t = end(Phase.OVERLAY, t);

        begin(Phase.SEED);
        clientKey = SshKeyPair.generate("qemu-agents@" + id());
        hostKey = SshKeyPair.generate("root@" + spec.hostname());
        CloneIdentity identity = CloneIdentity.of(spec.hostname(), spec.user(), clientKey.publicKeyLine(), hostKey);
        t = end(Phase.SEED, t);

        t = startNetwork(deadline);
        begin(Phase.QEMU_START);
        List<String> argv = QemuCommand.build(ctx.config().qemuBinary(), spec, image, accel,
                new QemuCommand.Files(o.file(), console, dir.resolve("qmp.sock")), null, ctx.sandbox(),
                new QemuCommand.Warm(identitySocket(), true));
        VmProcess p = startQemu(argv, snapshot.state());
        Instant qemuStart = Instant.now();
        t = end(Phase.QEMU_START, t);

        QmpClient q = connectQmp(p, deadline);
        t = readPort(q);

        begin(Phase.RESTORE);
        // fd:0 is QEMU's standard input, the state file: no shell, no helper process.
        q.execute("migrate-incoming", Map.of("uri", "fd:0"), Duration.ofSeconds(10));
        awaitIncoming(q, p, deadline);
        q.execute("cont", null, Duration.ofSeconds(10));
        t = end(Phase.RESTORE, t);

        begin(Phase.IDENTITY);
        identity.deliver(identitySocket(), remaining(deadline, Duration.ofMinutes(2)));
        t = end(Phase.IDENTITY, t);

        awaitSsh(p, qemuStart, deadline, t);
    }

    private VmProcess startQemu(List<String> argv, Path stdin) throws Exception {
        if (!Files.isExecutable(ctx.config().qemuBinary())) {
            throw new IOException("QEMU binary " + ctx.config().qemuBinary() + " is missing or not executable");
        }
        LOG.fine(() -> "[" + id() + "] " + String.join(" ", argv));
        VmProcess p = VmProcess.start(argv, dir.resolve("qemu.stderr"), ctx.spawner(), stdin);
        register(() -> process = p, p);
        long startTime = ctx.proc().stat(p.pid()).map(ProcessStat::startTime).orElse(0L);
        writeRecord(currentRecord().withQemu(p.pid(), startTime));
        return p;
    }

    /**
     * The VM's network before its QEMU, which connects to the helper at start. Each helper pid is
     * recorded the moment it exists, so a JVM that dies from here on leaves it to the reaper.
     */
    private Instant startNetwork(Instant deadline) throws Exception {
        begin(Phase.NETWORK);
        Instant t = Instant.now();
        GuestNetwork n = new GuestNetwork(spec.egress(), dir, ctx.config().passtBinary(), id());
        register(() -> network = n, n);
        n.start(ctx.spawner()::start, pid -> writeRecord(currentRecord().withHelper(pid,
                ctx.proc().stat(pid).map(ProcessStat::startTime).orElse(0L))), deadline);
        return end(Phase.NETWORK, t);
    }

    private QmpClient connectQmp(VmProcess p, Instant deadline) throws Exception {
        begin(Phase.QMP);
        Instant t = Instant.now();
        Path socket = dir.resolve("qmp.sock");
        awaitSocket(p, socket, deadline);
        QmpClient q = QmpClient.connect(socket, remaining(deadline, Duration.ofSeconds(10)), ctx.reactor());
        register(() -> qmp = q, q);
        end(Phase.QMP, t);
        return q;
    }

    private Instant readPort(QmpClient q) throws Exception {
        begin(Phase.PORT);
        Instant t = Instant.now();
        JsonNode usernet = q.execute("human-monitor-command", Map.of("command-line", "info usernet"), Duration.ofSeconds(10));
        OptionalInt port = ForwardedPort.parse(usernet.asText(), 22);
        if (port.isEmpty()) {
            throw new IOException("QEMU reported no forwarded port for guest port 22: " + usernet.asText().strip());
        }
        sshPort = port.getAsInt();
        writeRecord(currentRecord().withSshPort(sshPort));
        return end(Phase.PORT, t);
    }

    private void awaitSsh(VmProcess p, Instant qemuStart, Instant deadline, Instant t) throws Exception {
        begin(Phase.SSH);
        Path console = dir.resolve("console.log");
        AtomicBoolean consoleSeen = new AtomicBoolean();
        GuestNetwork n = network;
        ctx.ssh().awaitLogin(sshTarget(), deadline, ctx.config().sshRetryPause(), () -> {
            if (!consoleSeen.get() && sizeOf(console) > 0) {
                consoleSeen.set(true);
                timings.record(Phase.FIRST_CONSOLE, Duration.between(qemuStart, Instant.now()));
            }
            return cancelled || !p.isAlive() || n.failure() != null;
        });
        end(Phase.SSH, t);
    }

    /**
     * The incoming side stays in "inmigrate" while it reads the state; then it is paused (-S).
     * Reading a file never blocks, so QEMU's main loop, and with it QMP, may not answer until the
     * whole state is loaded: one query may wait for most of the load.
     */
    private void awaitIncoming(QmpClient q, VmProcess p, Instant deadline) throws Exception {
        while (true) {
            String status;
            try {
                status = q.execute("query-status", null, remaining(deadline, Duration.ofMinutes(2))).path("status").asText();
            } catch (IOException e) {
                // QEMU closes QMP as it exits on a state it cannot load; give the exit a moment to show.
                if (p.waitFor(Duration.ofSeconds(3))) {
                    throw new IOException("QEMU exited with code " + p.exitCode() + " while loading the snapshot", e);
                }
                throw e;
            }
            if (!status.equals("inmigrate")) {
                if (!status.equals("paused") && !status.equals("prelaunch")) {
                    throw new IOException("QEMU is in state '" + status + "' after loading the snapshot, not paused");
                }
                return;
            }
            if (!p.isAlive()) {
                throw new IOException("QEMU exited with code " + p.exitCode() + " while loading the snapshot");
            }
            if (!Instant.now().isBefore(deadline)) {
                throw new IOException("QEMU was still loading the snapshot at the deadline");
            }
            Thread.sleep(10);
        }
    }

    /** After a failed restore: everything the attempt made goes, so the cold boot starts clean. */
    private void releaseAttempt() throws InterruptedException {
        VmProcess p;
        QmpClient q;
        Overlay o;
        GuestNetwork n;
        synchronized (lock) {
            p = process;
            q = qmp;
            o = overlay;
            n = network;
            process = null;
            qmp = null;
            overlay = null;
            network = null;
        }
        closeQuietly(q);
        if (p != null) {
            p.kill();
        }
        closeQuietly(n);
        closeQuietly(o);
        sshPort = -1;
        for (String f : List.of("qmp.sock", IDENTITY_SOCKET, "qemu.stderr", "console.log", GuestNetwork.SOCKET, GuestNetwork.STDERR)) {
            try {
                Files.deleteIfExists(dir.resolve(f));
            } catch (IOException e) {
                LOG.fine(() -> "[" + id() + "] " + e);
            }
        }
    }

    /**
     * Saves this running VM (booted for a warm snapshot) as {@code stateFile} and moves its disk
     * to {@code diskFile}: waits until the guest has settled, pauses it, streams QEMU's migration
     * into the file and quits QEMU so the disk is complete. The VM is dead afterwards; destroy it.
     */
    void saveWarmSnapshot(Path diskFile, Path stateFile, Duration timeout) throws IOException, InterruptedException {
        if (!warmPrep || phase != Phase.RUNNING) {
            throw new IllegalStateException("VM " + id() + " is not a running warm-snapshot boot (phase " + phase + ")");
        }
        Instant deadline = Instant.now().plus(timeout);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        // Booted means sshd answers; settled means no unit is still starting, and our identity
        // service is waiting on its port (else a restore would wait for an answer forever).
        int rc = ctx.ssh().exec(sshTarget(), "systemctl is-system-running --wait >/dev/null 2>&1;"
                + " systemctl is-active --quiet qemu-agents-identity.service && exit 0;"
                + " systemctl status --no-pager -n 15 qemu-agents-identity.service; exit 1", out, out,
                remaining(deadline, Duration.ofMinutes(3)));
        if (rc != 0) {
            throw new IOException("the guest's qemu-agents-identity service is not running: " + out.toString(StandardCharsets.UTF_8).strip());
        }
        // The login session just closed is torn down by the guest asynchronously (PAM, logind);
        // give it a moment so clones do not all repeat that work after every restore.
        Thread.sleep(SETTLE.toMillis());
        QmpClient q = qmp;
        q.execute("stop", null, Duration.ofSeconds(10));
        q.execute("migrate-set-parameters", Map.of("max-bandwidth", MIGRATION_BANDWIDTH), Duration.ofSeconds(10));
        MigrationSink.receive(q, dir.resolve("migrate.sock"), stateFile, deadline);
        try {
            q.execute("quit", null, Duration.ofSeconds(5));
        } catch (IOException e) {
            // QEMU often closes the socket before its reply to quit arrives; that is success.
        }
        VmProcess p = process;
        if (!p.waitFor(remaining(deadline, Duration.ofSeconds(30)))) {
            throw new IOException("QEMU did not quit after saving the snapshot");
        }
        // Closed cleanly, QEMU has written every qcow2 table: the overlay is the frozen layer now.
        Files.move(overlay.file(), diskFile);
    }

    /**
     * The fast path when the image has our boot unit and nothing but the identity is asked of the
     * guest; extra cloud-config needs cloud-init, so it always goes through the NoCloud seed.
     */
    private GuestIdentity identity(BaseImage image) throws IOException {
        boolean plain = spec.extraUserData() == null || spec.extraUserData().isBlank();
        if (image.fastPath() && plain) {
            return FwCfgIdentity.write(dir.resolve("identity"), spec.hostname(), spec.user(), clientKey.publicKeyLine(),
                    hostKey, spec.sudo(), overlay.grown());
        }
        cloudInit = true;
        CloudInitConfig config = new CloudInitConfig(id(), spec.hostname(), spec.user(), clientKey.publicKeyLine(),
                hostKey, spec.sudo(), spec.extraUserData(), overlay.grown());
        return SeedIso.write(config, dir.resolve("seed.iso"));
    }

    private String reason(Exception e, Instant deadline) {
        VmProcess p = process;
        if (cancelled) {
            return "cancelled (destroy was called during boot)";
        }
        if (p != null && !p.isAlive()) {
            return "QEMU exited with code " + p.exitCode() + " (" + e.getMessage() + ")";
        }
        GuestNetwork n = network;
        if (n != null && n.failure() != null) {
            return "the guest's network is gone: " + n.failure() + " (" + e.getMessage() + ")";
        }
        if (!Instant.now().isBefore(deadline)) {
            return "timed out after " + spec.bootTimeout().toSeconds() + " s: " + e.getMessage();
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    /** The per-VM socket paths grow with the VM id; QEMU would fail on bind with an obscure error. */
    private void checkSocketPath(Path socket) {
        int bytes = socket.toString().getBytes(StandardCharsets.UTF_8).length;
        if (bytes > EngineConfig.MAX_SOCKET_PATH) {
            throw new InvalidInputException("vmId", id(), "makes the socket path " + socket + " " + bytes
                    + " bytes long, over the Unix limit of " + EngineConfig.MAX_SOCKET_PATH + "; use a shorter VM id or state directory");
        }
    }

    private void createDirectory() throws IOException {
        Path stateDir = ctx.config().stateDir();
        try {
            FileTree.ownerOnlyDirectories(stateDir);
        } catch (IOException e) {
            throw new IOException("the state directory " + stateDir + " is not usable: " + why(e), e);
        }
        try {
            FileTree.newOwnerOnlyDirectory(dir);
        } catch (FileAlreadyExistsException e) {
            throw new IOException("VM id " + id() + " is already in use: " + dir + " exists", e);
        } catch (IOException e) {
            throw new IOException("the state directory " + stateDir + " is not writable: cannot create " + dir + ": " + why(e), e);
        }
        dirCreated = true;
    }

    private VmRecord currentRecord() {
        synchronized (lock) {
            return record;
        }
    }

    /** Under the lock and never after destroy() began, so no record reappears in a folder being deleted. */
    private void writeRecord(VmRecord r) throws IOException, InterruptedException {
        synchronized (lock) {
            if (destroyStarted.get()) {
                throw new InterruptedException("cancelled");
            }
            try {
                ctx.states().write(r);
            } catch (IOException e) {
                throw new IOException("cannot write the VM record in " + dir + ": " + why(e), e);
            }
            record = r;
        }
    }

    /** NIO's file exceptions often carry only the path; say what went wrong. */
    private static String why(IOException e) {
        if (e instanceof FileSystemException f) {
            String reason = f.getReason() != null ? f.getReason() : e.getClass().getSimpleName().replace("Exception", "");
            return reason + (f.getFile() != null ? " (" + f.getFile() + ")" : "");
        }
        return String.valueOf(e.getMessage());
    }

    private void awaitSocket(VmProcess p, Path socket, Instant deadline) throws IOException, InterruptedException {
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
    }

    private static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    private static Duration remaining(Instant deadline, Duration cap) {
        Duration left = Duration.between(Instant.now(), deadline);
        return left.compareTo(cap) > 0 ? cap : left.isNegative() ? Duration.ofMillis(1) : left;
    }

    private void begin(Phase p) throws InterruptedException {
        if (cancelled) {
            throw new InterruptedException("cancelled before " + p.description());
        }
        phase = p;
        bootPhase = p;
        LOG.fine(() -> "[" + id() + "] " + p.description());
    }

    private Instant end(Phase p, Instant since) {
        Instant now = Instant.now();
        timings.record(p, Duration.between(since, now));
        return now;
    }

    /**
     * Hands a freshly made resource to this VM. If destroy() already ran, nobody else will
     * release it, so it is released here and the boot stops.
     */
    private void register(Runnable assign, AutoCloseable resource) throws Exception {
        synchronized (lock) {
            if (!destroyStarted.get()) {
                assign.run();
                return;
            }
        }
        resource.close();
        throw new InterruptedException("cancelled");
    }

    /**
     * Stops QEMU and removes every file of this VM. Graceful first ({@code system_powerdown}
     * with a bounded wait), then {@code quit}, then SIGKILL. Idempotent and thread-safe: later
     * callers wait for the first to finish.
     */
    public void destroy() {
        cancelled = true;
        if (!destroyStarted.compareAndSet(false, true)) {
            destroyed.join();
            return;
        }
        Instant start = Instant.now();
        Phase was;
        synchronized (lock) {
            was = phase;
            phase = Phase.DESTROY;
        }
        try {
            VmProcess p;
            QmpClient q;
            synchronized (lock) {
                p = process;
                q = qmp;
            }
            // Before QEMU: a session to a guest that is powering off would only hang on its way down.
            closeQuietly(hostPortRelay);
            stop(p, q, was == Phase.RUNNING);
            closeQuietly(q);
            // After QEMU: the helper is its network, and goes by itself once QEMU is gone.
            closeQuietly(network);
            closeQuietly(overlay);
            closeQuietly(seed);
            if (spec.keepConsole()) {
                keepConsole();
            }
            deleteStateDir();
            timings.record(Phase.DESTROY, Duration.between(start, Instant.now()));
            LOG.info("[" + id() + "] destroyed in " + PhaseTimings.millis(timings.get(Phase.DESTROY)));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "[" + id() + "] destroy failed", e);
            throw e;
        } finally {
            destroyed.complete(null);
            onDestroyed.accept(this);
        }
    }

    private void stop(VmProcess p, QmpClient q, boolean graceful) {
        if (p == null) {
            return;
        }
        try {
            if (p.isAlive() && q != null && graceful && !spec.shutdownGrace().isZero()) {
                try {
                    q.execute("system_powerdown", null, Duration.ofSeconds(2));
                    if (p.waitFor(spec.shutdownGrace())) {
                        return;
                    }
                    LOG.info("[" + id() + "] guest did not power off within " + spec.shutdownGrace().toSeconds() + " s; quitting QEMU");
                } catch (IOException e) {
                    LOG.fine(() -> "[" + id() + "] system_powerdown: " + e.getMessage());
                }
            }
            if (p.isAlive() && q != null) {
                try {
                    q.execute("quit", null, Duration.ofSeconds(2));
                } catch (IOException e) {
                    // QEMU often closes the socket before its reply to quit arrives; that is success.
                }
                if (p.waitFor(Duration.ofSeconds(2))) {
                    return;
                }
            }
            if (p.isAlive()) {
                LOG.info("[" + id() + "] killing QEMU pid " + p.pid());
            }
            p.kill();
        } catch (InterruptedException e) {
            // Still kill it: an interrupted destroy must not leak a VM.
            try {
                p.kill();
            } catch (InterruptedException again) {
                Thread.currentThread().interrupt();
            }
            Thread.currentThread().interrupt();
        }
    }

    private void keepConsole() {
        Path console = dir.resolve("console.log");
        if (!Files.exists(console)) {
            return;
        }
        try {
            Path kept = ctx.config().stateDir().resolve("consoles");
            FileTree.ownerOnlyDirectories(kept);
            Path target = kept.resolve(id() + ".console.log");
            Files.move(console, target, StandardCopyOption.REPLACE_EXISTING);
            keptConsole = target;
        } catch (IOException e) {
            LOG.warning("[" + id() + "] cannot keep console log: " + e.getMessage());
        }
    }

    private void deleteStateDir() {
        if (!dirCreated) {
            return;
        }
        // The boot thread may still be creating a file here as we delete; try a few times.
        for (int i = 0; i < 5; i++) {
            try {
                StateStore.deleteVmDir(dir);
                return;
            } catch (IOException e) {
                if (i == 4) {
                    LOG.warning("[" + id() + "] cannot remove " + dir + ": " + e);
                }
            }
        }
    }

    private void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            LOG.warning("[" + id() + "] releasing " + c + ": " + e);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        destroy();
    }

    @Override
    public String toString() {
        return "Vm[" + id() + " " + phase + (sshPort > 0 ? " 127.0.0.1:" + sshPort : "") + "]";
    }
}
