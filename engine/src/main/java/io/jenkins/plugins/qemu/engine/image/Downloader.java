package io.jenkins.plugins.qemu.engine.image;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Fetches one URL ({@code http}, {@code https} or {@code file}) into a new file, hashing it on
 * the way. A transfer fails when no byte arrives for the stall timeout, when the server sends
 * fewer bytes than its Content-Length announced (a truncated download), or when it exceeds the
 * caller's size limit. Progress lines go to a consumer every few seconds. Owns the HTTP client's
 * threads: close it when done.
 */
public final class Downloader implements AutoCloseable {
    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(5);

    private final Duration stallTimeout;
    private final ExecutorService executor;
    private final HttpClient http;

    public Downloader(Duration connectTimeout, Duration stallTimeout) {
        this.stallTimeout = stallTimeout;
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "qemu-agents-download");
            t.setDaemon(true);
            return t;
        });
        // NORMAL follows redirects except https -> http, so a mirror redirect cannot downgrade.
        this.http = HttpClient.newBuilder()
                .connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NORMAL)
                .executor(executor)
                .build();
    }

    public Downloader() {
        this(Duration.ofSeconds(30), Duration.ofMinutes(2));
    }

    /** The outcome of one download: how many bytes and their SHA-256. */
    public record Download(long bytes, String sha256) {}

    /** Checks that {@code url} is absolute and uses a scheme this class can fetch. */
    public static URI checkUrl(String field, URI url) {
        String scheme = url == null || url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") && !scheme.equals("file")) {
            throw new InvalidInputException(field, url, "must be an http://, https:// or file:// URL");
        }
        if (scheme.equals("file") && (url.getPath() == null || !url.getPath().startsWith("/"))) {
            throw new InvalidInputException(field, url, "must be an absolute file:///path URL");
        }
        return url;
    }

    /** Downloads {@code url} into {@code target}, which must not exist yet; at most {@code maxBytes}. */
    public Download fetch(URI url, Path target, long maxBytes, Consumer<String> progress) throws IOException {
        checkUrl("url", url);
        Meter meter = new Meter(url, progress);
        try (FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            MessageDigest md = Sha256.newDigest();
            long n = url.getScheme().equalsIgnoreCase("file")
                    ? copyFile(Path.of(url), out, md, maxBytes, meter)
                    : copyHttp(url, out, md, maxBytes, meter);
            out.force(true);
            meter.done(n);
            return new Download(n, Sha256.hex(md));
        }
    }

    private static long copyFile(Path source, FileChannel out, MessageDigest md, long maxBytes, Meter meter) throws IOException {
        if (!Files.isRegularFile(source)) {
            throw new NoSuchFileException(source.toString(), null, "not a regular file");
        }
        long total = Files.size(source);
        meter.expect(total);
        checkLimit(source.toUri(), total, maxBytes);
        long n = 0;
        try (InputStream in = Files.newInputStream(source)) {
            byte[] buf = new byte[1 << 20];
            for (int r; (r = in.read(buf)) > 0; ) {
                n += r;
                checkLimit(source.toUri(), n, maxBytes);
                md.update(buf, 0, r);
                ByteBuffer b = ByteBuffer.wrap(buf, 0, r);
                while (b.hasRemaining()) {
                    out.write(b);
                }
                meter.advance(n);
            }
        }
        return n;
    }

    private long copyHttp(URI url, FileChannel out, MessageDigest md, long maxBytes, Meter meter) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(url).GET().header("User-Agent", "qemu-agents").build();
        FileSubscriber body = new FileSubscriber(url, out, md, maxBytes, meter);
        CompletableFuture<HttpResponse<Long>> response = http.sendAsync(request, info -> {
            if (info.statusCode() != 200) {
                return HttpResponse.BodySubscribers.replacing(-1L);
            }
            info.headers().firstValueAsLong("Content-Length").ifPresent(meter::expect);
            return body;
        });
        HttpResponse<Long> r = await(url, response, body, meter);
        if (r.statusCode() != 200) {
            throw new IOException("GET " + url + " answered HTTP " + r.statusCode() + " (expected 200)");
        }
        long n = r.body();
        if (meter.expected >= 0 && n != meter.expected) {
            throw new IOException(truncated(url, n, meter.expected));
        }
        return n;
    }

    /** Waits for the transfer while watching that bytes keep arriving. */
    private HttpResponse<Long> await(URI url, CompletableFuture<HttpResponse<Long>> response, FileSubscriber body, Meter meter)
            throws IOException {
        try {
            while (true) {
                try {
                    return response.get(1, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    if (meter.idleFor().compareTo(stallTimeout) > 0) {
                        throw new IOException("download of " + url + " stalled: no data for " + stallTimeout.toSeconds()
                                + " s after " + meter.received + " bytes");
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while downloading " + url);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (meter.expected >= 0 && meter.received < meter.expected) {
                throw new IOException(truncated(url, meter.received, meter.expected) + " (" + cause + ")", cause);
            }
            if (cause instanceof IOException io && io.getMessage() != null && io.getMessage().startsWith("download of")) {
                throw io;
            }
            throw new IOException("download of " + url + " failed after " + meter.received + " bytes: " + cause, cause);
        } finally {
            body.cancel();
            response.cancel(true);
        }
    }

    private static String truncated(URI url, long got, long expected) {
        return "download of " + url + " is truncated: received " + got + " of the " + expected
                + " bytes announced by Content-Length";
    }

    private static void checkLimit(URI url, long n, long maxBytes) throws IOException {
        if (n > maxBytes) {
            throw new IOException("download of " + url + " is larger than the limit of " + maxBytes + " bytes");
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }

    /** Writes the body straight to the file as it arrives, one buffer list at a time. */
    private static final class FileSubscriber implements HttpResponse.BodySubscriber<Long> {
        private final URI url;
        private final FileChannel out;
        private final MessageDigest md;
        private final long maxBytes;
        private final Meter meter;
        private final CompletableFuture<Long> result = new CompletableFuture<>();
        private volatile Flow.Subscription subscription;

        FileSubscriber(URI url, FileChannel out, MessageDigest md, long maxBytes, Meter meter) {
            this.url = url;
            this.out = out;
            this.md = md;
            this.maxBytes = maxBytes;
            this.meter = meter;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            try {
                for (ByteBuffer b : items) {
                    long total = meter.received + b.remaining();
                    checkLimit(url, total, maxBytes);
                    md.update(b.duplicate());
                    while (b.hasRemaining()) {
                        out.write(b);
                    }
                    meter.advance(total);
                }
                subscription.request(1);
            } catch (IOException | RuntimeException e) {
                subscription.cancel();
                result.completeExceptionally(e);
            }
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(meter.received);
        }

        @Override
        public CompletionStage<Long> getBody() {
            return result;
        }

        void cancel() {
            Flow.Subscription s = subscription;
            if (s != null && !result.isDone()) {
                s.cancel();
                result.completeExceptionally(new IOException("cancelled"));
            }
        }
    }

    /** Counts bytes and turns them into an occasional progress line. */
    private static final class Meter {
        private final String label;
        private final Consumer<String> progress;
        private final long start = System.nanoTime();
        private volatile long expected = -1;
        private volatile long received;
        private volatile long lastByteAt = System.nanoTime();
        private long lastReportAt = System.nanoTime();

        Meter(URI url, Consumer<String> progress) {
            this.label = Sha256Sums.fileName(url);
            this.progress = progress;
        }

        void expect(long bytes) {
            expected = bytes;
        }

        synchronized void advance(long total) {
            received = total;
            long now = System.nanoTime();
            lastByteAt = now;
            if (now - lastReportAt >= PROGRESS_EVERY.toNanos()) {
                lastReportAt = now;
                progress.accept(label + ": " + line(total, now));
            }
        }

        Duration idleFor() {
            return Duration.ofNanos(System.nanoTime() - lastByteAt);
        }

        void done(long total) {
            progress.accept(label + ": downloaded " + line(total, System.nanoTime()));
        }

        private String line(long total, long now) {
            double secs = Math.max(1e-3, (now - start) / 1e9);
            String of = expected > 0 ? String.format(Locale.ROOT, " of %.1f MiB (%d%%)", mib(expected), total * 100 / expected) : "";
            return String.format(Locale.ROOT, "%.1f MiB%s in %.1f s, %.1f MiB/s", mib(total), of, secs, mib(total) / secs);
        }

        private static double mib(long bytes) {
            return bytes / 1048576.0;
        }
    }
}
