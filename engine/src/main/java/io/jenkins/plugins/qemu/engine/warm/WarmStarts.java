package io.jenkins.plugins.qemu.engine.warm;

import io.jenkins.plugins.qemu.engine.image.BaseImage;
import io.jenkins.plugins.qemu.engine.net.GuestNetwork;
import io.jenkins.plugins.qemu.engine.image.ImageCatalog;
import io.jenkins.plugins.qemu.engine.image.ImageProbe;
import io.jenkins.plugins.qemu.engine.seed.WarmGuestSetup;
import io.jenkins.plugins.qemu.engine.vm.AccelDecision;
import io.jenkins.plugins.qemu.engine.vm.AcceleratorProbe;
import io.jenkins.plugins.qemu.engine.vm.PhaseTimings;
import io.jenkins.plugins.qemu.engine.vm.QemuCommand;
import io.jenkins.plugins.qemu.engine.vm.SnapshotBuildGate;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import io.jenkins.plugins.qemu.engine.vm.VmBootException;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import io.jenkins.plugins.qemu.engine.vm.WarmStart;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Decides between restoring a template's warm snapshot and booting cold, and builds snapshots:
 * one boot per template with the warm device model, saved once it has settled. Builds run one
 * at a time on a single thread of their own (a build is a whole VM under TCG; two at once would
 * only slow each other and the builds waiting for VMs) and at most once per slot at a time.
 */
public final class WarmStarts implements WarmStart, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(WarmStarts.class.getName());
    /** Bumped whenever the warm device model in {@link QemuCommand} or the guest protocol changes. */
    static final String DEVICE_MODEL = "warm-devices-2";

    /** A snapshot to restore, or why not, and whether building one would help. */
    public record Choice(Snapshot snapshot, String reason, boolean buildable) {}

    private final SnapshotStore store;
    private final String qemuVersion;
    private final BiFunction<VmSpec, Boolean, Vm> vms;
    private final ConcurrentHashMap<String, CompletableFuture<Snapshot>> building = new ConcurrentHashMap<>();
    private final ExecutorService builder = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "qemu-agents-snapshots");
        t.setDaemon(true);
        return t;
    });

    private final ImageCatalog catalog;
    private final AcceleratorProbe probe;
    private final SnapshotAttempts attempts = new SnapshotAttempts(java.time.Clock.systemUTC());

    private final SnapshotBuildGate gate;

    /**
     * {@code vms} makes a VM of this engine from a spec; true asks for a warm-snapshot boot.
     * {@code gate} books each snapshot boot before it starts.
     */
    public WarmStarts(SnapshotStore store, String qemuVersion, ImageCatalog catalog, AcceleratorProbe probe,
            BiFunction<VmSpec, Boolean, Vm> vms, SnapshotBuildGate gate) {
        this.gate = gate;
        this.store = store;
        this.qemuVersion = qemuVersion;
        this.catalog = catalog;
        this.probe = probe;
        this.vms = vms;
        store.removeLeftovers();
    }

    /** {@link #choose(VmSpec, BaseImage, AccelDecision)} with the image and accelerator resolved here. */
    public Choice choose(VmSpec spec) throws IOException {
        BaseImage image = catalog.resolve(spec.image());
        return choose(spec, image, probe.decide(spec.accel(), image));
    }

    /**
     * {@link #choose(VmSpec, BaseImage, AccelDecision)}, and when the snapshot is missing or stale
     * and can be built, queues its build, as the choice's reason says ("building it now if the capacity allows it").
     */
    Choice chooseOrBuild(VmSpec spec, BaseImage image, AccelDecision accel) {
        return queueIfBuildable(spec, choose(spec, image, accel));
    }

    @Override
    public Plan plan(VmSpec spec, BaseImage image, AccelDecision accel) {
        Choice c = chooseOrBuild(spec, image, accel);
        return new Plan(c.snapshot(), c.reason());
    }

    /** {@link #chooseOrBuild(VmSpec, BaseImage, AccelDecision)} with the image and accelerator resolved here. */
    public Choice chooseOrBuild(VmSpec spec) throws IOException {
        return queueIfBuildable(spec, choose(spec));
    }

    private Choice queueIfBuildable(VmSpec spec, Choice c) {
        if (c.buildable()) {
            buildLater(spec);
        }
        return c;
    }

    public SnapshotStore store() {
        return store;
    }

    Choice choose(VmSpec spec, BaseImage image, AccelDecision accel) {
        String ineligible = ineligible(spec, image);
        if (ineligible != null) {
            return new Choice(null, ineligible, false);
        }
        SnapshotKey key;
        try {
            key = key(spec, image, accel);
        } catch (IOException e) {
            return new Choice(null, "cannot tell whether the warm snapshot is current: " + e, false);
        }
        SnapshotStore.Lookup l = store.lookup(key);
        if (l.ready()) {
            return new Choice(l.snapshot(), null, false);
        }
        CompletableFuture<Snapshot> running = building.get(flight(spec));
        if (running == null) {
            String refused = attempts.refusal(key);
            if (refused != null) {
                return new Choice(null, l.reason() + "; " + refused, false);
            }
        }
        // The build is a VM: without room under the caps it is skipped until the next VM or warm-up check asks again.
        String build = running != null ? "; it is being built" : "; building it now if the capacity allows it";
        return new Choice(null, l.reason() + build, true);
    }

    private static String ineligible(VmSpec spec, BaseImage image) {
        if (!image.warmStart() && !image.cloudInit()) {
            return "image '" + image.name() + "' has neither our warm-start service (manifest warmStart) nor cloud-init to install it";
        }
        if (image.kernel() == null) {
            return "image '" + image.name() + "' boots through firmware; warm start is supported only with direct kernel boot "
                    + "(manifest kernel), the only way it has been tested";
        }
        if (spec.extraUserData() != null && !spec.extraUserData().isBlank()) {
            return "the template's extra cloud-config needs cloud-init at boot, which a restored snapshot skips";
        }
        return null;
    }

    /**
     * The template part is what the guest was booted with; the environment part is every file and
     * program the saved state depends on. Base image files are identified by size, mtime and inode
     * rather than by checksum: hashing gigabytes before every restore would cost more than it saves,
     * and replacing an image (pull, build, copy) always changes those.
     */
    SnapshotKey key(VmSpec spec, BaseImage image, AccelDecision accel) throws IOException {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("base image", stamp(image.disk()));
        env.put("kernel", image.kernel() == null ? "none" : stamp(image.kernel()));
        env.put("initrd", image.initrd() == null ? "none" : stamp(image.initrd()));
        env.put("kernel command line", image.kernelAppend().orElse(""));
        env.put("accelerator", String.join(" ", accel.qemuArgs()));
        env.put("QEMU version", qemuVersion);
        env.put("device model", DEVICE_MODEL + (image.snapshotBootUsesSeed() ? " + seed drive" : ""));
        env.put("identity service", image.warmStart() ? "the image's own" : WarmGuestSetup.fingerprint());
        // The jar and its class-data-sharing archive are in the saved disk; a new jar needs a new snapshot.
        env.put("agent jar", spec.agentJar() == null ? "none" : "sha256 " + spec.agentJar().sha256());
        env.put("agent jar cache", spec.agentJar() == null || spec.agentJar().cached().isEmpty() ? "none"
                : spec.agentJar().cached().stream().map(io.jenkins.plugins.qemu.engine.vm.CachedJar::cachePath).sorted()
                        .collect(java.util.stream.Collectors.joining(" ")));
        // The agent started in the snapshot runs with the template's JVM options and our bootstrap.
        env.put("agent start", spec.agentJar() == null ? "none"
                : "pre-started, key " + new io.jenkins.plugins.qemu.engine.vm.AgentPrestart(spec.agentJar(), accel.accel()).key());
        return SnapshotKey.of(image.name(), template(spec), env);
    }

    /** What the guest of a snapshot was booted with; one snapshot slot per distinct value. */
    private static Map<String, String> template(VmSpec spec) {
        Map<String, String> template = new LinkedHashMap<>();
        template.put("cpus", Integer.toString(spec.cpus()));
        template.put("memoryMiB", Long.toString(spec.memoryMiB()));
        template.put("diskSizeMiB", Long.toString(spec.diskSizeMiB()));
        template.put("machine", spec.machine());
        template.put("user", spec.user());
        template.put("sudo", Boolean.toString(spec.sudo()));
        // The network backend's state is saved with the machine; host ports the policy allows are not.
        template.put("network", GuestNetwork.backend(spec.egress()));
        return template;
    }

    private static String stamp(Path file) throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        return a.size() + " bytes, modified " + a.lastModifiedTime().toInstant() + ", file " + a.fileKey();
    }

    /** Queues a build of {@code spec}'s snapshot unless one is running; returns at once. */
    CompletableFuture<Snapshot> buildLater(VmSpec spec) {
        VmSpec prep = prepSpec(spec);
        return building.computeIfAbsent(flight(spec), k -> {
            CompletableFuture<Snapshot> f = new CompletableFuture<>();
            try {
                builder.execute(() -> {
                    // Out of the in-flight map before the waiters wake: one that asks again at once
                    // must start a new build, not get this finished one back.
                    Snapshot built = null;
                    Throwable failure = null;
                    try {
                        built = build(prep);
                    } catch (Throwable e) {
                        failure = e;
                    } finally {
                        building.remove(k, f);
                    }
                    if (failure != null) {
                        f.completeExceptionally(failure);
                    } else {
                        f.complete(built);
                    }
                });
            } catch (RuntimeException e) {
                building.remove(k, f);
                f.completeExceptionally(e);
            }
            return f;
        });
    }

    /** The slot is only known once the image is resolved; builds in flight are keyed by the image and template values. */
    private static String flight(VmSpec spec) {
        return spec.image() + template(spec);
    }

    /** Builds {@code spec}'s snapshot now if it is missing or stale and returns the current one. */
    public Snapshot ensure(VmSpec spec) throws IOException, InterruptedException {
        try {
            return buildLater(spec).get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) {
                throw io;
            }
            if (c instanceof InterruptedException ie) {
                throw ie;
            }
            throw new IOException("building the warm snapshot failed: " + c, c);
        }
    }

    /**
     * A restore that QEMU refused (it exited while loading the state) condemns the snapshot: it is
     * discarded and rebuilt. Other failures (a timeout on an overloaded host, a cancelled boot)
     * say nothing about the snapshot, which is kept.
     */
    @Override
    public void restoreFailed(WarmStart.Restore restore, String why, VmSpec spec, boolean snapshotRejected) {
        if (snapshotRejected && restore instanceof Snapshot snapshot) {
            store.discard(snapshot, why);
            buildLater(spec);
        }
    }

    private static VmSpec prepSpec(VmSpec spec) {
        return spec.toBuilder().vmId(VmSpec.newVmId()).hostname(null).extraUserData(null).keepConsole(false).warmStart(false).build();
    }

    private Snapshot build(VmSpec prep) throws IOException, InterruptedException {
        // Queued behind another build of the same slot, or asked for by ensure(): nothing to do if current.
        Choice c = choose(prep);
        if (c.snapshot() != null) {
            return c.snapshot();
        }
        if (!c.buildable()) {
            throw new IOException("no warm snapshot can be built: " + c.reason());
        }
        AutoCloseable ticket = gate.admit(prep).orElseThrow(() -> new IOException(
                "no warm snapshot is built now: its boot does not fit the cloud's cap or budget (asked again by the next VM)"));
        try {
            return bootAndSave(prep);
        } finally {
            try {
                ticket.close();
            } catch (Exception e) {
                LOG.log(Level.WARNING, "releasing the booking of a warm-snapshot boot failed", e);
            }
        }
    }

    private Snapshot bootAndSave(VmSpec prep) throws IOException, InterruptedException {
        Instant start = Instant.now();
        BaseImage image = catalog.resolve(prep.image());
        SnapshotKey key = key(prep, image, probe.decide(prep.accel(), image));
        Vm vm = vms.apply(prep, true);
        LOG.info("[" + vm.id() + "] building the warm snapshot of image '" + prep.image() + "' (" + prep.cpus() + " vCPU, "
                + prep.memoryMiB() + " MiB): booting it once to save it");
        Path buildDir = null;
        ImageProbe found = null;
        try {
            vm.boot();
            found = askGuest(vm);
            SnapshotStore.Lookup current = store.lookup(key);
            if (current.ready()) {
                return current.snapshot(); // another engine on this state directory was quicker
            }
            buildDir = store.newBuildDir();
            var nics = SnapshotSaver.save(vm, SnapshotStore.diskIn(buildDir), SnapshotStore.stateIn(buildDir), Duration.ofMinutes(5));
            Snapshot s = store.publish(buildDir, key, Duration.between(start, Instant.now()), nics);
            buildDir = null;
            attempts.succeeded(key);
            recordProbe(prep.image(), found, image.warmStart() ? "ok (image service)" : "ok (installed by cloud-init)");
            LOG.info("[" + vm.id() + "] warm snapshot " + key.slot() + " built in " + PhaseTimings.millis(Duration.between(start, Instant.now()))
                    + " (boot " + PhaseTimings.millis(vm.timings().timeToOnline()) + ", state " + (s.stateBytes() >> 20) + " MiB)");
            return s;
        } catch (VmBootException e) {
            attempts.failed(key, "the boot failed while " + e.phase().description());
            recordProbe(prep.image(), found, "failed: the boot failed while " + e.phase().description());
            LOG.log(Level.WARNING, "warm snapshot for image '" + prep.image() + "' not built: " + e.getMessage());
            throw new IOException("the warm-snapshot boot failed: " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            attempts.failed(key, e.getMessage());
            recordProbe(prep.image(), found, "failed: " + e.getMessage());
            LOG.log(Level.WARNING, "[" + vm.id() + "] warm snapshot for image '" + prep.image() + "' not built: " + e);
            throw e;
        } finally {
            vm.destroy();
            if (buildDir != null) {
                store.abandon(buildDir);
            }
        }
    }

    /** What the snapshot boot's guest has, asked once over SSH; null when it cannot tell. */
    private static ImageProbe askGuest(Vm vm) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try {
            vm.exec(ImageProbe.GUEST_COMMAND, out, java.io.OutputStream.nullOutputStream(), Duration.ofMinutes(1));
            return ImageProbe.fromGuest(out.toString(java.nio.charset.StandardCharsets.UTF_8), Instant.now());
        } catch (IOException e) {
            LOG.fine(() -> "[" + vm.id() + "] probing the guest failed: " + e);
            return null;
        }
    }

    private void recordProbe(String image, ImageProbe probe, String warmVerdict) {
        ImageProbe p = probe != null ? probe : new ImageProbe(null, null, null, Instant.now().toString());
        try {
            catalog.recordProbe(image, p.withWarmStart(warmVerdict));
        } catch (IOException | RuntimeException e) {
            LOG.warning("cannot record what image '" + image + "' supports: " + e);
        }
    }

    @Override
    public void close() throws InterruptedException {
        builder.shutdownNow();
        builder.awaitTermination(30, TimeUnit.SECONDS);
    }
}
