package io.jenkins.plugins.qemu.engine.usage;

import io.jenkins.plugins.qemu.engine.qmp.QmpClient;
import io.jenkins.plugins.qemu.engine.state.VmDir;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One VM's usage over its life: {@link #begin} when it comes online, {@link #sample()} whenever
 * a figure is wanted (the engine's housekeeping tick, a caller), {@link #finish()} as its destroy
 * begins, while QEMU and QMP are still there. It keeps the last sample, so the figures of a VM
 * whose QEMU died stay readable up to the last tick, and the final ones after the destroy. It
 * keeps the peaks across samples (the guest's memory peak is only ever the highest sample) and
 * counts the network from the guest's NIC counters as its QEMU started. Each sample is handed to
 * {@code publish} too (on the host: the VM folder's {@link UsageFile}, for {@code ps}). It owns
 * nothing: the process, QMP connection, overlay and guest counters are the VM's, read through
 * suppliers.
 */
public final class UsageTracker {
    private static final Logger LOG = Logger.getLogger(UsageTracker.class.getName());

    private final UsageProbe probe;
    private final LongSupplier pid;
    private final Supplier<QmpClient> qmp;
    private final Supplier<Path> overlay;
    private final NicCounters nics;
    private final Consumer<VmUsage> publish;
    private long startTime = VmUsage.UNKNOWN;
    private long overlayAtStart = VmUsage.UNKNOWN;
    /** The guest's NIC counters as its QEMU started; null if unknown, and the network stays UNKNOWN. */
    private NicCounters.Totals nicsAtStart;
    private boolean finished;
    private VmUsage last;

    public UsageTracker(UsageProbe probe, LongSupplier pid, Supplier<QmpClient> qmp,
            Supplier<Path> overlay, NicCounters nics, Consumer<VmUsage> publish) {
        this.probe = probe;
        this.pid = pid;
        this.qmp = qmp;
        this.overlay = overlay;
        this.nics = nics;
        this.publish = publish;
    }

    /**
     * A tracker reading the host's {@code /proc} and the system clock, the overlay in {@code dir}
     * (a VM adopted from another engine has no Overlay object, but the same folder), and leaving
     * each sample in the folder's {@link UsageFile}.
     */
    public static UsageTracker onHost(LongSupplier pid, Supplier<QmpClient> qmp, VmDir dir, NicCounters nics) {
        UsageProbe probe = new UsageProbe(new ProcReader(), Clock.systemUTC());
        return new UsageTracker(probe, pid, qmp, dir::overlay, nics, u -> {
            try {
                UsageFile.write(dir.usage(), dir.usageTemp(), u);
            } catch (IOException e) {
                LOG.log(Level.FINE, "cannot leave the usage in " + dir + " for ps", e);
            }
        });
    }

    /**
     * Starts counting: pins the QEMU process by its start time and the overlay's size now, and has
     * QEMU poll the guest's memory statistics. {@code nicsAtStart} are the guest's NIC counters
     * as its QEMU started ({@link NicCounters.Totals#AT_BOOT}, a restored guest's snapshot's),
     * or null if unknown; they are not read now, which would cost the guest a command as it
     * comes online, when it is waited for.
     */
    public synchronized void begin(NicCounters.Totals nicsAtStart) {
        startTime = probe.startTime(pid.getAsLong());
        overlayAtStart = UsageProbe.fileSize(overlay.get());
        this.nicsAtStart = nicsAtStart;
        try {
            probe.startGuestStats(openQmp());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "starting the guest's figures failed", e);
        }
    }

    /** A fresh sample if still counting and QEMU runs, else the last; null if none was taken. */
    public synchronized VmUsage sample() {
        if (!finished) {
            sampleLocked();
        }
        return last;
    }

    /** The final sample; nothing is sampled after it, and {@link #last()} keeps returning it. */
    public synchronized VmUsage finish() {
        VmUsage u = sample();
        finished = true;
        return u;
    }

    /** The last sample taken, without taking one; null if none was. */
    public synchronized VmUsage last() {
        return last;
    }

    private void sampleLocked() {
        if (startTime == VmUsage.UNKNOWN) {
            return;
        }
        try {
            VmUsage u = probe.sample(pid.getAsLong(), startTime, openQmp(), overlay.get(), overlayAtStart);
            if (u != null) {
                u = withNetwork(u);
                last = last == null ? u : u.withPeaksOf(last);
                publish.accept(last);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // A figure is never worth failing a build or a destroy for.
            LOG.log(Level.FINE, "sampling usage failed", e);
        }
    }

    private QmpClient openQmp() {
        QmpClient q = qmp.get();
        return q != null && q.isOpen() ? q : null;
    }

    /**
     * The network since QEMU started; if the counters cannot be read now (or went back, as a
     * NIC's do when its driver is reloaded), the last sample's figures, which are a lower bound.
     */
    private VmUsage withNetwork(VmUsage u) throws InterruptedException {
        if (nicsAtStart == null) {
            return u;
        }
        NicCounters.Totals now = nics.read();
        if (now == null || now.rxBytes() < nicsAtStart.rxBytes() || now.txBytes() < nicsAtStart.txBytes()) {
            return last == null ? u : u.withNetwork(last.netRxBytes(), last.netTxBytes());
        }
        return u.withNetwork(now.rxBytes() - nicsAtStart.rxBytes(), now.txBytes() - nicsAtStart.txBytes());
    }
}
