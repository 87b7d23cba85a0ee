package io.jenkins.plugins.qemu.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Pulls from a local web server and from file:// URLs: every codec, both ways of giving a
 * checksum, and each kind of bad download, checking after each failure that nothing but the lock
 * files is left in the catalog.
 */
class ImagePullerTest {
    @TempDir
    static Path fixtures;
    private static Path disk;
    private static String diskSha;

    @TempDir
    Path catalogDir;
    private ImageCatalog catalog;
    private TestHttpServer server;
    private ImagePuller puller;
    private final List<String> progress = new ArrayList<>();

    @BeforeAll
    static void makeDisk() throws Exception {
        disk = TestDisks.qcow2(fixtures, "disk.qcow2");
        diskSha = Sha256.of(disk);
    }

    @BeforeEach
    void start() throws IOException {
        catalog = new ImageCatalog(catalogDir);
        server = new TestHttpServer();
        puller = new ImagePuller(catalog, TestDisks.qemuImg(), new ImageUsage(List.of()),
                new Downloader(Duration.ofSeconds(10), Duration.ofSeconds(20)));
    }

    @AfterEach
    void stop() {
        puller.close();
        server.close();
    }

    private PullRequest.Builder request(String name, URI url, String sha) {
        return PullRequest.builder().name(name).url(url).sha256(sha);
    }

    private ImageManifest pull(PullRequest.Builder b) throws IOException {
        return puller.pull(b.build(), line -> {
            synchronized (progress) {
                progress.add(line);
            }
        });
    }

    private void assertOnly(String... expected) throws IOException {
        List<String> want = new ArrayList<>();
        for (String name : expected) {
            for (String f : List.of("", "/disk.qcow2", "/manifest.json")) {
                want.add(name + f);
            }
        }
        List<String> left = TestDisks.leftovers(catalogDir);
        left.sort(null);
        want.sort(null);
        assertEquals(want, left, "catalog content");
    }

    @ParameterizedTest
    @EnumSource(Compression.class)
    void pullsEachCodecOverHttpAndRecordsBothChecksums(Compression codec) throws Exception {
        Path packed = codec == Compression.NONE ? disk : TestDisks.compress(disk, codec);
        URI url = server.serve("/images/disk.qcow2" + TestDisks.suffix(codec), packed);
        String downloadSha = Sha256.of(packed);

        ImageManifest m = pull(request("cirros", url, downloadSha));

        assertEquals("qcow2", m.format());
        assertEquals("disk.qcow2", m.disk());
        assertEquals(64L << 20, m.virtualSize());
        assertEquals(diskSha, m.sha256(), "the manifest records the installed disk's own hash");
        assertEquals(downloadSha, m.originSha256(), "and the published hash of what was downloaded");
        assertEquals(url.toString(), m.origin());
        assertNotNull(m.addedAt());
        assertEquals(diskSha, Sha256.of(catalogDir.resolve("cirros/disk.qcow2")));
        assertEquals(m, catalog.manifest("cirros"), "the manifest on disk is what pull returned");
        BaseImage base = catalog.resolve("cirros");
        assertEquals(catalogDir.resolve("cirros/disk.qcow2").toRealPath(), base.disk());
        assertEquals(List.of("cirros"), catalog.names());
        assertOnly("cirros");
        assertTrue(progress.stream().anyMatch(l -> l.contains("downloaded")), progress.toString());
    }

    @Test
    void pullsFromFileUrlsWithKernelInitrdAndAppend() throws Exception {
        Path kernel = Files.write(fixtures.resolve("vmlinuz-test"), new byte[] {1, 2, 3});
        Path initrd = Files.write(fixtures.resolve("initrd-test"), new byte[] {4, 5, 6});
        ImageManifest m = pull(request("local", disk.toUri(), diskSha)
                .kernel(kernel.toUri(), Sha256.of(kernel))
                .initrd(initrd.toUri(), Sha256.of(initrd))
                .append("root=/dev/vda rw console=ttyS0")
                .defaultUser("fedora")
                .cloudInit(false)
                .minMemoryMiB(768L));

        BaseImage base = catalog.resolve("local");
        assertEquals(catalogDir.resolve("local/vmlinuz").toRealPath(), base.kernel());
        assertEquals(catalogDir.resolve("local/initrd.img").toRealPath(), base.initrd());
        assertEquals("root=/dev/vda rw console=ttyS0", base.append());
        assertEquals("fedora", base.defaultUser());
        assertFalse(base.cloudInit());
        assertEquals(768L, m.minMemoryMiB());
        assertEquals(diskSha, m.sha256());
        assertEquals(diskSha, m.originSha256());
    }

    @Test
    void takesTheChecksumFromAPublishedSha256SumsList() throws Exception {
        Path packed = TestDisks.compress(disk, Compression.XZ);
        Path kernel = Files.write(fixtures.resolve("vmlinuz"), new byte[] {7, 7, 7});
        Path sums = Files.writeString(fixtures.resolve("SHA256SUMS"),
                "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n"
                        + Sha256.of(kernel) + " *vmlinuz\n"
                        + "SHA256 (cloud.qcow2.xz) = " + Sha256.of(packed) + "\n"
                        + "0".repeat(64) + "  other.qcow2\n");
        ImageManifest m = pull(PullRequest.builder().name("sums")
                .url(server.serve("/pub/cloud.qcow2.xz", packed))
                .sha256Sums(server.serve("/pub/SHA256SUMS", sums))
                .kernel(server.serve("/pub/vmlinuz", kernel), null));
        assertEquals(Sha256.of(packed), m.originSha256());
        assertEquals("vmlinuz", m.kernel());

        // A file the list does not name is refused before anything is downloaded.
        ImageRejectedException e = assertThrows(ImageRejectedException.class, () -> pull(PullRequest.builder().name("unlisted")
                .url(server.serve("/pub/unlisted.qcow2", disk)).sha256Sums(server.url("/pub/SHA256SUMS"))));
        assertTrue(e.getMessage().contains("no single entry for 'unlisted.qcow2'"), e.getMessage());
        assertEquals(0, server.hits("/pub/unlisted.qcow2"));
        assertTrue(Files.isRegularFile(catalogDir.resolve("sums/vmlinuz")));
        Files.delete(catalogDir.resolve("sums/vmlinuz"));
        assertOnly("sums");
    }

    @Test
    void refusesAChecksumMismatchAndLeavesNothing() throws Exception {
        URI url = server.serve("/disk.qcow2.gz", TestDisks.compress(disk, Compression.GZIP));
        String wrong = "ab".repeat(32);
        ImageRejectedException e = assertThrows(ImageRejectedException.class, () -> pull(request("bad", url, wrong)));
        assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
        assertTrue(e.getMessage().contains(wrong), e.getMessage());
        assertOnly();
        // The installed-disk hash is not what is published: giving it for a compressed download fails too.
        assertThrows(ImageRejectedException.class, () -> pull(request("bad", url, diskSha)));
        assertOnly();
    }

    @Test
    void refusesATruncatedBody() throws Exception {
        Path packed = TestDisks.compress(disk, Compression.GZIP);
        try (TruncatingServer truncating = new TruncatingServer(packed, 100_000)) {
            IOException e = assertThrows(IOException.class, () -> pull(request("short", truncating.url(), Sha256.of(packed))));
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
            assertTrue(e.getMessage().contains("of the " + (Files.size(packed) + 100_000) + " bytes"), e.getMessage());
        }
        assertOnly();
    }

    @Test
    void givesUpOnAStalledDownload() throws Exception {
        Path packed = TestDisks.compress(disk, Compression.GZIP);
        try (TruncatingServer hanging = new TruncatingServer(packed, 100_000, true);
                ImagePuller impatient = new ImagePuller(catalog, TestDisks.qemuImg(), new ImageUsage(List.of()),
                        new Downloader(Duration.ofSeconds(5), Duration.ofSeconds(2)))) {
            IOException e = assertThrows(IOException.class,
                    () -> impatient.pull(request("stalled", hanging.url(), Sha256.of(packed)).build(), l -> { }));
            assertTrue(e.getMessage().contains("stalled: no data for 2 s"), e.getMessage());
        }
        assertOnly();
    }

    @ParameterizedTest
    @EnumSource(value = Compression.class, names = {"GZIP", "BZIP2", "XZ", "ZSTD"})
    void refusesATruncatedCompressedFileEvenWithAMatchingChecksum(Compression codec) throws Exception {
        byte[] all = Files.readAllBytes(TestDisks.compress(disk, codec));
        Path cut = Files.write(fixtures.resolve("cut" + TestDisks.suffix(codec)), java.util.Arrays.copyOf(all, all.length * 2 / 3));
        IOException e = assertThrows(IOException.class, () -> pull(request("cut", cut.toUri(), Sha256.of(cut))));
        assertTrue(e.getMessage().contains("cannot unpack") || e.getMessage().contains("damaged or truncated"), e.getMessage());
        assertOnly();
    }

    @Test
    void anImageMovedAsideByACrashedReplaceIsRestored() throws Exception {
        pull(request("moved", disk.toUri(), diskSha));
        Files.move(catalogDir.resolve("moved"), catalogDir.resolve(".moved~old-123"));
        Files.createDirectories(catalogDir.resolve(".moved~456"));
        ImagePuller.removeLeftovers(catalogDir, "moved");
        assertOnly("moved");
    }

    @Test
    void refusesATruncatedQcow2EvenWithAMatchingChecksum() throws Exception {
        // A publisher that hashed a cut-off file: the checksum matches, qemu-img check does not.
        byte[] all = Files.readAllBytes(disk);
        Path cut = Files.write(fixtures.resolve("cut.qcow2"), java.util.Arrays.copyOf(all, all.length / 2));
        ImageRejectedException e = assertThrows(ImageRejectedException.class,
                () -> pull(request("cut", cut.toUri(), Sha256.of(cut))));
        assertTrue(e.getMessage().contains("damaged or truncated"), e.getMessage());
        assertOnly();
    }

    @Test
    void refusesFilesThatAreNotDiskImages() throws Exception {
        byte[] noise = new byte[1000];
        new java.util.Random(1).nextBytes(noise);
        Path random = Files.write(fixtures.resolve("random.bin"), noise);
        ImageRejectedException e = assertThrows(ImageRejectedException.class,
                () -> pull(request("noise", random.toUri(), Sha256.of(random))));
        assertTrue(e.getMessage().contains("not a disk image") && e.getMessage().contains("512-byte sectors"), e.getMessage());

        String page = "<!DOCTYPE html><html><body>Please log in</body></html>\n";
        Path html = Files.writeString(fixtures.resolve("login.html"), page + " ".repeat(1024 - page.length()));
        e = assertThrows(ImageRejectedException.class, () -> pull(request("html", html.toUri(), Sha256.of(html))));
        assertTrue(e.getMessage().contains("is text ('<!DOCTYPE html>"), e.getMessage());

        Path raw = TestDisks.raw(fixtures, "plain.raw", 4);
        e = assertThrows(ImageRejectedException.class,
                () -> pull(request("raw-as-qcow2", raw.toUri(), Sha256.of(raw)).format("qcow2")));
        assertTrue(e.getMessage().contains("not a qcow2 image"), e.getMessage());
        assertOnly();

        // The same raw disk is fine when raw is acceptable: it is installed as disk.raw.
        ImageManifest m = pull(request("plain", raw.toUri(), Sha256.of(raw)));
        assertEquals("raw", m.format());
        assertEquals("disk.raw", m.disk());
        assertEquals(4L << 20, m.virtualSize());
    }

    @Test
    void refusesAQcow2WhoseBackingFileOrDataFilePointsOutside() throws Exception {
        Path evil = fixtures.resolve("evil.qcow2");
        TestDisks.qemuImg("create", "-q", "-f", "qcow2", "-u", "-F", "raw", "-b", "/etc/passwd", evil.toString(), "64M");
        Path packed = TestDisks.compress(evil, Compression.GZIP);
        URI url = server.serve("/evil.qcow2.gz", packed);
        ImageRejectedException e = assertThrows(ImageRejectedException.class, () -> pull(request("evil", url, Sha256.of(packed))));
        assertTrue(e.getMessage().contains("backing file '/etc/passwd'"), e.getMessage());
        assertOnly();

        Path data = fixtures.resolve("evil-data.qcow2");
        TestDisks.qemuImg("create", "-q", "-f", "qcow2", "-o", "data_file=" + fixtures.resolve("evil-data.raw"), data.toString(), "8M");
        e = assertThrows(ImageRejectedException.class, () -> pull(request("evil-data", data.toUri(), Sha256.of(data))));
        assertTrue(e.getMessage().contains("external data file"), e.getMessage());
        assertOnly();
    }

    @Test
    void refusesNamesThatEscapeTheCatalog() {
        for (String name : List.of("../escape", "/etc", "a/b", ".hidden", "..", "", "UPPER", "x~tmp")) {
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> request(name, disk.toUri(), diskSha).build(), name);
            assertEquals("name", e.field());
        }
        assertThrows(InvalidInputException.class, () -> catalog.manifest("../escape"));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> request("ok", URI.create("ftp://example.org/x.qcow2"), diskSha).build());
        assertEquals("--url", e.field());
        e = assertThrows(InvalidInputException.class, () -> PullRequest.builder().name("ok").url(disk.toUri()).build());
        assertEquals("--sha256", e.field());
    }

    @Test
    void twoConcurrentPullsOfOneImageDownloadItOnce() throws Exception {
        Path packed = TestDisks.compress(disk, Compression.ZSTD);
        URI url = server.serve("/once.qcow2.zst", packed);
        server.delay(Duration.ofMillis(500));
        String sha = Sha256.of(packed);
        // Two threads of one puller, and a second puller (as another process would, it meets the file lock).
        try (ImagePuller other = new ImagePuller(catalog, TestDisks.qemuImg(), new ImageUsage(List.of()), new Downloader())) {
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                List<Future<ImageManifest>> all = new ArrayList<>();
                all.add(pool.submit(() -> pull(request("once", url, sha))));
                all.add(pool.submit(() -> pull(request("once", url, sha))));
                all.add(pool.submit(() -> other.pull(request("once", url, sha).build(), l -> { })));
                for (Future<ImageManifest> f : all) {
                    assertEquals(diskSha, f.get().sha256());
                }
            } finally {
                pool.shutdownNow();
            }
        }
        assertEquals(1, server.hits("/once.qcow2.zst"), "downloaded once");
        assertOnly("once");
    }

    @Test
    void anInstalledImageIsKeptUnlessReplaced() throws Exception {
        URI url = server.serve("/a.qcow2", disk);
        pull(request("keep", url, diskSha));
        // Same source again: nothing is downloaded.
        pull(request("keep", url, diskSha));
        assertEquals(1, server.hits("/a.qcow2"));

        Path other = TestDisks.compress(disk, Compression.BZIP2);
        URI url2 = server.serve("/b.qcow2.bz2", other);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> pull(request("keep", url2, Sha256.of(other))));
        assertTrue(e.getMessage().contains("already in the catalog"), e.getMessage());

        ImageManifest m = pull(request("keep", url2, Sha256.of(other)).replace(true));
        assertEquals(url2.toString(), m.origin());
        assertEquals(url2.toString(), catalog.manifest("keep").origin());
        assertOnly("keep");
    }

    @Test
    void aFailedReplaceKeepsTheOldImage() throws Exception {
        URI url = server.serve("/a.qcow2", disk);
        pull(request("stay", url, diskSha));
        assertThrows(ImageRejectedException.class, () -> pull(request("stay", url, "00".repeat(32)).replace(true)));
        assertEquals(url.toString(), catalog.manifest("stay").origin());
        assertOnly("stay");
    }

    @Test
    void reportsHttpErrorsAndMissingFiles() throws IOException {
        IOException e = assertThrows(IOException.class, () -> pull(request("gone", server.url("/nothing.qcow2"), diskSha)));
        assertTrue(e.getMessage().contains("HTTP 404"), e.getMessage());
        e = assertThrows(IOException.class, () -> pull(request("gone", URI.create("file:///nonexistent/x.qcow2"), diskSha)));
        assertTrue(e.getMessage().contains("/nonexistent/x.qcow2"), e.getMessage());
        assertOnly();
    }

    @Test
    void leftoversOfAKilledPullAreCleanedByTheNextPull() throws Exception {
        Path stale = Files.createDirectories(catalogDir.resolve(".crashed~12345"));
        Files.writeString(stale.resolve("download"), "partial", StandardCharsets.UTF_8);
        Files.createDirectories(catalogDir.resolve(".crashed-not-mine~1"));
        pull(request("crashed", disk.toUri(), diskSha));
        assertFalse(Files.exists(stale));
        assertTrue(Files.exists(catalogDir.resolve(".crashed-not-mine~1")), "another name's staging is not touched");
        assertEquals(List.of("crashed"), catalog.names());
    }
}
