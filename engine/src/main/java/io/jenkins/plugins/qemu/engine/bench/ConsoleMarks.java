package io.jenkins.plugins.qemu.engine.bench;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Watches a guest console log for the moments the benchmark reports but SSH cannot see: the first
 * byte the guest prints, and cloud-init's "finished" line. Polled from a shared scheduler, so
 * watching four VMs costs no extra threads.
 */
final class ConsoleMarks implements AutoCloseable {
    private static final String CLOUD_INIT_DONE = "Cloud-init v.";
    private static final String FINISHED = "finished at";

    private final Supplier<Path> console;
    private final long startNanos;
    private final ScheduledFuture<?> task;
    private volatile double firstByte = Double.NaN;
    private volatile double cloudInitDone = Double.NaN;
    private long offset;
    private final StringBuilder pending = new StringBuilder();

    ConsoleMarks(Supplier<Path> console, long startNanos, ScheduledExecutorService scheduler) {
        this.console = console;
        this.startNanos = startNanos;
        this.task = scheduler.scheduleWithFixedDelay(this::poll, 0, 20, TimeUnit.MILLISECONDS);
    }

    private synchronized void poll() {
        Path file = console.get();
        if (file == null || !Files.exists(file) || !Double.isNaN(cloudInitDone)) {
            return;
        }
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long len = f.length();
            if (len <= offset) {
                return;
            }
            double now = (System.nanoTime() - startNanos) / 1e9;
            if (Double.isNaN(firstByte)) {
                firstByte = now;
            }
            byte[] buf = new byte[(int) Math.min(len - offset, 1 << 20)];
            f.seek(offset);
            f.readFully(buf);
            offset += buf.length;
            pending.append(new String(buf, StandardCharsets.ISO_8859_1));
            int nl;
            while ((nl = pending.indexOf("\n")) >= 0) {
                String line = pending.substring(0, nl);
                pending.delete(0, nl + 1);
                if (line.contains(CLOUD_INIT_DONE) && line.contains(FINISHED)) {
                    cloudInitDone = now;
                }
            }
        } catch (IOException e) {
            // The file is being rotated away at destroy; nothing more to see.
        }
    }

    double firstByte() {
        return firstByte;
    }

    double cloudInitDone() {
        return cloudInitDone;
    }

    boolean cloudInitSeen() {
        return !Double.isNaN(cloudInitDone);
    }

    @Override
    public void close() {
        task.cancel(false);
    }
}
