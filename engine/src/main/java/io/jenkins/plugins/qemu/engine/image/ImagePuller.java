package io.jenkins.plugins.qemu.engine.image;

import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;

/**
 * Installs an image into the catalog from a URL: download, verify the published SHA-256 of the
 * downloaded file, unpack (gzip, bzip2, xz, zstd), inspect, install. Everything happens in a
 * hidden staging folder inside the catalog ({@code .<name>~<random>}) that is renamed to
 * {@code <name>} only when complete, so the catalog never shows a partial image, and the staging
 * folder is deleted on every failure. One pull per name at a time: threads of this puller share
 * one pull, processes wait on a file lock; whoever comes second finds the image installed and,
 * if it came from the same URL with the same checksum, takes it without downloading again.
 */
public final class ImagePuller implements AutoCloseable {
    /** Upper bounds so a hostile server or a decompression bomb cannot fill the disk unchecked. */
    static final long MAX_DISK_BYTES = 1L << 40;
    static final long MAX_BOOT_FILE_BYTES = 1L << 30;
    static final long MAX_SUMS_BYTES = 1L << 20;

    private final ImageCatalog catalog;
    private final DiskInspector inspector;
    private final ImageUsage usage;
    private final Downloader downloader;
    private final ConcurrentMap<String, CompletableFuture<Void>> inFlight = new ConcurrentHashMap<>();

    /** {@code usage} guards {@code --replace}: an image in use is not replaced. */
    public ImagePuller(ImageCatalog catalog, QemuImg qemuImg, ImageUsage usage, Downloader downloader) {
        this.catalog = catalog;
        this.inspector = new DiskInspector(qemuImg);
        this.usage = usage;
        this.downloader = downloader;
    }

    public ImageManifest pull(PullRequest req, Consumer<String> progress) throws IOException {
        while (true) {
            CompletableFuture<Void> mine = new CompletableFuture<>();
            CompletableFuture<Void> running = inFlight.putIfAbsent(req.name(), mine);
            if (running == null) {
                try {
                    return pullLocked(req, progress);
                } finally {
                    inFlight.remove(req.name(), mine);
                    mine.complete(null);
                }
            }
            progress.accept(req.name() + ": waiting for the pull already running in this process");
            // Whatever the other pull's outcome, go round again: under the lock we either find its
            // image (and check it is the one asked for) or try ourselves.
            try {
                running.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for the pull of '" + req.name() + "'");
            } catch (ExecutionException never) {
                // Only ever completed normally.
            }
        }
    }

    private ImageManifest pullLocked(PullRequest req, Consumer<String> progress) throws IOException {
        String name = req.name();
        Path root = Files.createDirectories(catalog.root());
        try (CatalogLock lock = CatalogLock.acquire(root, name, progress)) {
            removeLeftovers(root, name);
            Path staging = Files.createTempDirectory(root, "." + name + "~");
            try {
                return pullInto(req, staging, progress);
            } finally {
                FileTree.deleteQuietly(staging);
            }
        }
    }

    private ImageManifest pullInto(PullRequest req, Path staging, Consumer<String> progress) throws IOException {
        String name = req.name();
        Sha256Sums sums = req.sha256Sums() == null ? null : fetchSums(req.sha256Sums(), staging, progress);
        String expected = expectedSha(req.sha256(), sums, req.url(), "--url");
        Path dir = catalog.imageDir(name);
        boolean exists = Files.exists(dir, LinkOption.NOFOLLOW_LINKS);
        if (exists && !req.replace()) {
            ImageManifest existing = catalog.manifest(name);
            if (sameSource(existing, req, expected)) {
                progress.accept(name + ": already in the catalog from " + existing.origin() + "; not downloading it again");
                return existing;
            }
            throw new InvalidInputException("image", name, "is already in the catalog"
                    + (existing.origin() == null ? "" : " (from " + existing.origin() + ")")
                    + "; remove it with 'images rm " + name + "' or pull with --replace");
        }

        if (exists) {
            refuseIfUsed(dir, name); // before the download, not only after it
        }
        Path download = staging.resolve("download");
        Downloader.Download got = downloader.fetch(req.url(), download, MAX_DISK_BYTES, progress);
        requireSha(name, "the download of " + req.url(), expected, got.sha256());

        Compression compression = Compression.detect(download);
        Path unpacked = staging.resolve("disk.unpacked");
        if (compression == Compression.NONE) {
            Files.move(download, unpacked);
        } else {
            progress.accept(name + ": unpacking " + compression.name().toLowerCase(Locale.ROOT));
            compression.unpack(download, unpacked, MAX_DISK_BYTES);
            Files.delete(download);
        }
        DiskInfo info = inspector.inspect(name, unpacked, req.format());
        String diskName = "disk." + info.format();
        Path disk = staging.resolve(diskName);
        Files.move(unpacked, disk);
        String diskSha = compression == Compression.NONE ? got.sha256() : Sha256.of(disk);

        String kernel = bootFile(req.kernelUrl(), req.kernelSha256(), sums, "--kernel-url", "vmlinuz", staging, name, progress);
        String initrd = bootFile(req.initrdUrl(), req.initrdSha256(), sums, "--initrd-url", "initrd.img", staging, name, progress);

        ImageManifest manifest = new ImageManifest(name, info.format(), diskName, kernel, initrd, req.append(),
                req.defaultUser(), req.cloudInit(), req.minMemoryMiB(), diskSha, info.virtualSize(), null,
                req.url().toString(), got.sha256(), Instant.now().truncatedTo(ChronoUnit.SECONDS).toString()).validate(name);
        manifest.write(staging.resolve(ImageCatalog.MANIFEST));
        publish(staging, dir, exists, name);
        progress.accept(name + ": installed in " + dir + " (" + info.format() + ", " + info.virtualSize() + " bytes virtual)");
        return manifest;
    }

    private Sha256Sums fetchSums(URI url, Path staging, Consumer<String> progress) throws IOException {
        Path file = staging.resolve("SHA256SUMS");
        downloader.fetch(url, file, MAX_SUMS_BYTES, progress);
        String text = Files.readString(file, StandardCharsets.UTF_8);
        Files.delete(file);
        return new Sha256Sums(text);
    }

    private static String expectedSha(String given, Sha256Sums sums, URI url, String field) throws ImageRejectedException {
        if (given != null) {
            return given;
        }
        return sums.lookup(url).orElseThrow(() -> new ImageRejectedException("the SHA256SUMS list has no single entry for '"
                + Sha256Sums.fileName(url) + "' (the file of " + field + " " + url + ")"));
    }

    private static void requireSha(String name, String what, String expected, String actual) throws ImageRejectedException {
        if (!expected.equalsIgnoreCase(actual)) {
            throw new ImageRejectedException("image '" + name + "': checksum mismatch for " + what + ": expected SHA-256 "
                    + expected + ", got " + actual + " (corrupted, truncated or not the file that was published)");
        }
    }

    private static boolean sameSource(ImageManifest existing, PullRequest req, String expected) {
        return req.url().toString().equals(existing.origin())
                && expected.equalsIgnoreCase(String.valueOf(existing.originSha256()))
                && (DiskInspector.AUTO.equals(req.format()) || req.format().equals(existing.format()));
    }

    private String bootFile(URI url, String sha, Sha256Sums sums, String field, String file, Path staging, String name,
            Consumer<String> progress) throws IOException {
        if (url == null) {
            return null;
        }
        String expected = expectedSha(sha, sums, url, field);
        Downloader.Download got = downloader.fetch(url, staging.resolve(file), MAX_BOOT_FILE_BYTES, progress);
        requireSha(name, "the download of " + url, expected, got.sha256());
        return file;
    }

    /** Makes the staged folder the image, atomically; a replaced image is moved aside first. */
    private void publish(Path staging, Path dir, boolean replacing, String name) throws IOException {
        Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (DirectoryStream<Path> files = Files.newDirectoryStream(staging)) {
            for (Path f : files) {
                Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
            }
        }
        Path old = null;
        if (replacing) {
            refuseIfUsed(dir, name);
            old = Files.createTempDirectory(dir.getParent(), "." + name + "~old-");
            Files.delete(old);
            Files.move(dir, old, StandardCopyOption.ATOMIC_MOVE);
        }
        try {
            Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            if (old != null) {
                Files.move(old, dir, StandardCopyOption.ATOMIC_MOVE);
            }
            throw new IOException("cannot install image '" + name + "' as " + dir + ": " + e, e);
        }
        syncDirectory(dir.getParent());
        if (old != null) {
            FileTree.delete(old);
        }
    }

    private void refuseIfUsed(Path dir, String name) throws IOException {
        List<String> users = usage.usersOf(filesOf(dir));
        if (!users.isEmpty()) {
            throw new InvalidInputException("image", name, "is in use and cannot be replaced: " + String.join(", ", users));
        }
    }

    static List<Path> filesOf(Path dir) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return List.of(dir);
        }
        try (var s = Files.list(dir)) {
            return s.toList();
        }
    }

    /** The rename is only durable once the directory holding it is synced. */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // Not all file systems allow syncing a directory; the rename itself has happened.
        }
    }

    /**
     * Folders of this name left by a process that was killed. Safe to touch: the caller holds the
     * name's lock, so no live pull owns them. The '~' cannot occur in an image name, so the prefix
     * never matches another image's folders. An image moved aside by a replace that died before
     * installing the new one is put back rather than deleted.
     */
    static void removeLeftovers(Path root, String name) throws IOException {
        Path dir = root.resolve(name);
        try (DirectoryStream<Path> s = Files.newDirectoryStream(root, "." + name + "~*")) {
            for (Path p : s) {
                boolean movedAside = p.getFileName().toString().startsWith("." + name + "~old-")
                        || p.getFileName().toString().startsWith("." + name + "~rm-");
                if (movedAside && !Files.exists(dir, LinkOption.NOFOLLOW_LINKS)
                        && Files.isRegularFile(p.resolve(ImageCatalog.MANIFEST))) {
                    Files.move(p, dir, StandardCopyOption.ATOMIC_MOVE);
                } else {
                    FileTree.delete(p);
                }
            }
        }
    }

    @Override
    public void close() {
        downloader.close();
    }
}
