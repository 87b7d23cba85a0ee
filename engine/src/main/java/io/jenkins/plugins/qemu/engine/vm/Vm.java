package io.jenkins.plugins.qemu.engine.vm;

import com.fasterxml.jackson.databind.JsonNode;
import io.jenkins.plugins.qemu.engine.InvalidInputException;
import io.jenkins.plugins.qemu.engine.image.BaseImage;
import io.jenkins.plugins.qemu.engine.image.Overlay;
import io.jenkins.plugins.qemu.engine.qmp.QmpClient;
import io.jenkins.plugins.qemu.engine.reaper.ProcessStat;
import io.jenkins.plugins.qemu.engine.reaper.StateStore;
import io.jenkins.plugins.qemu.engine.reaper.VmRecord;
import io.jenkins.plugins.qemu.engine.seed.CloudInitConfig;
import io.jenkins.plugins.qemu.engine.seed.FwCfgIdentity;
import io.jenkins.plugins.qemu.engine.seed.GuestIdentity;
import io.jenkins.plugins.qemu.engine.seed.SeedIso;
import io.jenkins.plugins.qemu.engine.ssh.GuestSsh;
import io.jenkins.plugins.qemu.engine.ssh.SshKeyPair;
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
 * seed, QEMU process, QMP connection and forwarded port. {@link #boot()} runs the phases in the
 * caller's thread; {@link #destroy()} may be called from any thread at any time, also while the
 * boot is still running (which cancels it), and releases everything exactly once.
 */
public final class Vm implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Vm.class.getName());
    private static final int TAIL_LINES = 25;

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

    Vm(VmSpec spec, EngineContext ctx, Consumer<String> progress, Consumer<Vm> onDestroyed) {
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
            BaseImage image;
            begin(Phase.PREPARE);
            Instant t = Instant.now();
            Path socket = dir.resolve("qmp.sock");
            Path console = dir.resolve("console.log");
            checkSocketPath(socket);
            createDirectory();
            // Written before QEMU exists, so a JVM that dies from here on leaves a record the reaper finds.
            writeRecord(VmRecord.create(id(), ctx.owner(), socket, dir.resolve("overlay.qcow2"), dir.resolve("seed.iso"), console,
                    Instant.now()));
            image = ctx.catalog().resolve(spec.image());
            accel = ctx.probe().decide(spec.accel(), image);
            t = end(Phase.PREPARE, t);

            begin(Phase.OVERLAY);
            Overlay o = Overlay.create(ctx.qemuImg(), image, dir.resolve("overlay.qcow2"), spec.diskSizeMiB());
            register(() -> overlay = o, o);
            t = end(Phase.OVERLAY, t);

            begin(Phase.SEED);
            clientKey = SshKeyPair.generate("qemu-agents@" + id());
            hostKey = SshKeyPair.generate("root@" + spec.hostname());
            GuestIdentity s = identity(image);
            register(() -> seed = s, s);
            t = end(Phase.SEED, t);

            begin(Phase.QEMU_START);
            if (!Files.isExecutable(ctx.config().qemuBinary())) {
                throw new IOException("QEMU binary " + ctx.config().qemuBinary() + " is missing or not executable");
            }
            List<String> argv = QemuCommand.build(ctx.config().qemuBinary(), spec, image, accel,
                    new QemuCommand.Files(o.file(), console, socket), s, ctx.sandbox());
            LOG.fine(() -> "[" + id() + "] " + String.join(" ", argv));
            VmProcess p = VmProcess.start(argv, dir.resolve("qemu.stderr"), ctx.spawner());
            register(() -> process = p, p);
            long startTime = ctx.proc().stat(p.pid()).map(ProcessStat::startTime).orElse(0L);
            writeRecord(currentRecord().withQemu(p.pid(), startTime));
            Instant qemuStart = Instant.now();
            t = end(Phase.QEMU_START, t);

            begin(Phase.QMP);
            awaitSocket(p, socket, deadline);
            QmpClient q = QmpClient.connect(socket, remaining(deadline, Duration.ofSeconds(10)), ctx.reactor());
            register(() -> qmp = q, q);
            t = end(Phase.QMP, t);

            begin(Phase.PORT);
            JsonNode usernet = q.execute("human-monitor-command", Map.of("command-line", "info usernet"), Duration.ofSeconds(10));
            OptionalInt port = ForwardedPort.parse(usernet.asText(), 22);
            if (port.isEmpty()) {
                throw new IOException("QEMU reported no forwarded port for guest port 22: " + usernet.asText().strip());
            }
            sshPort = port.getAsInt();
            writeRecord(currentRecord().withSshPort(sshPort));
            t = end(Phase.PORT, t);

            begin(Phase.SSH);
            AtomicBoolean consoleSeen = new AtomicBoolean();
            ctx.ssh().awaitLogin(sshTarget(), deadline, ctx.config().sshRetryPause(), () -> {
                if (!consoleSeen.get() && sizeOf(console) > 0) {
                    consoleSeen.set(true);
                    timings.record(Phase.FIRST_CONSOLE, Duration.between(qemuStart, Instant.now()));
                }
                return cancelled || !p.isAlive();
            });
            end(Phase.SSH, t);
            synchronized (lock) {
                // A destroy that began during the last SSH attempt wins; never report it as running.
                if (destroyStarted.get()) {
                    throw new InterruptedException("cancelled");
                }
                phase = Phase.RUNNING;
            }
            String line = "[" + id() + "] online on 127.0.0.1:" + sshPort + " in " + PhaseTimings.millis(timings.timeToOnline())
                    + " (" + accel.accel() + "; " + timings + ")";
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
     * The fast path when the image has our boot unit and nothing but the identity is asked of the
     * guest; extra cloud-config needs cloud-init, so it always goes through the NoCloud seed.
     */
    private GuestIdentity identity(BaseImage image) throws IOException {
        boolean plain = spec.extraUserData() == null || spec.extraUserData().isBlank();
        if (image.fastPath() && plain) {
            return FwCfgIdentity.write(dir.resolve("identity"), spec.hostname(), spec.user(), clientKey.publicKeyLine(),
                    hostKey, spec.sudo(), overlay.grown());
        }
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
        if (!Instant.now().isBefore(deadline)) {
            return "timed out after " + spec.bootTimeout().toSeconds() + " s: " + e.getMessage();
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    /** The per-VM socket path grows with the VM id; QEMU would fail on bind with an obscure error. */
    private void checkSocketPath(Path socket) {
        int bytes = socket.toString().getBytes(StandardCharsets.UTF_8).length;
        if (bytes > EngineConfig.MAX_SOCKET_PATH) {
            throw new InvalidInputException("vmId", id(), "makes the QMP socket path " + socket + " " + bytes
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
            stop(p, q, was == Phase.RUNNING);
            closeQuietly(q);
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
