package io.jenkins.plugins.qemu.engine.image;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.config.Validation;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Builds a catalog image from distribution packages with the repository's own builder script
 * ({@code images/build-NAME.sh}, shipped inside the engine jar so that images/ stays its single
 * source). The script is idempotent and atomic itself; this class runs it with bash (argv, no
 * shell string) into the catalog directory while holding the image's catalog lock, streams its
 * log, and stops it (SIGTERM, so it cleans up) on timeout or interruption.
 */
public final class ImageBuilder {
    /** Images a builder script exists for. */
    public static final List<String> BUILDERS = List.of("debian-12");
    private static final String RESOURCES = "builders/build-";

    private final ImageCatalog catalog;
    private final Duration timeout;

    public ImageBuilder(ImageCatalog catalog, Duration timeout) {
        this.catalog = catalog;
        this.timeout = timeout;
    }

    public ImageManifest build(String name, Consumer<String> progress) throws IOException {
        Validation.imageName("image", name);
        if (!BUILDERS.contains(name) || ImageBuilder.class.getResource(RESOURCES + name + ".sh") == null) {
            throw new InvalidInputException("image", name, "has no builder; images that can be built: " + String.join(", ", BUILDERS));
        }
        Path root = Files.createDirectories(catalog.root());
        Path script = Files.createTempFile("qemu-agents-build-" + name + "-", ".sh",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try (CatalogLock lock = CatalogLock.acquire(root, name, progress)) {
            try (InputStream in = ImageBuilder.class.getResourceAsStream(RESOURCES + name + ".sh")) {
                Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
            }
            run(List.of("bash", script.toString(), root.toString()), name, progress);
        } finally {
            Files.deleteIfExists(script);
        }
        return catalog.manifest(name);
    }

    private void run(List<String> argv, String name, Consumer<String> progress) throws IOException {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        Deque<String> tail = new ArrayDeque<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    progress.accept(line);
                    synchronized (tail) {
                        tail.addLast(line);
                        if (tail.size() > 5) {
                            tail.removeFirst();
                        }
                    }
                }
            } catch (IOException ended) {
                // The builder exited or was stopped.
            }
        }, "qemu-agents-build-log");
        reader.setDaemon(true);
        reader.start();
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                stop(p);
                throw new IOException("building image '" + name + "' did not finish within " + timeout.toMinutes() + " min; stopped it");
            }
            reader.join(5000);
        } catch (InterruptedException e) {
            stop(p);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while building image '" + name + "'; stopped the builder");
        }
        if (p.exitValue() != 0) {
            String last;
            synchronized (tail) {
                last = String.join(" | ", tail);
            }
            throw new IOException("building image '" + name + "' failed with exit code " + p.exitValue() + ": " + last);
        }
    }

    /** SIGTERM first: the script's trap then unmounts and deletes its work directory. */
    private static void stop(Process p) {
        p.destroy();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
        } catch (InterruptedException e) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
