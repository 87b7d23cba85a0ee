package io.jenkins.plugins.qemu.engine.image;

import io.jenkins.plugins.qemu.engine.config.FileTree;
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
    /** What the builders install into guests; one source with what the engine installs through cloud-init. */
    private static final String GUEST = "/io/jenkins/plugins/qemu/engine/guest/";
    private static final List<String> GUEST_FILES = List.of("qemu-agents-identity");

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
        // The script installs the guest files found beside it (guest/), as in the repository.
        Path work = Files.createTempDirectory("qemu-agents-build-" + name + "-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try (CatalogLock lock = CatalogLock.acquire(root, name, progress)) {
            Path script = work.resolve("build-" + name + ".sh");
            copyResource(RESOURCES + name + ".sh", script);
            for (String file : GUEST_FILES) {
                copyResource(GUEST + file, Files.createDirectories(work.resolve("guest")).resolve(file));
            }
            run(List.of("bash", script.toString(), root.toString()), name, progress);
        } finally {
            FileTree.delete(work);
        }
        return catalog.manifest(name);
    }

    private static void copyResource(String resource, Path to) throws IOException {
        try (InputStream in = ImageBuilder.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("the engine jar lacks " + resource);
            }
            Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
        }
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
