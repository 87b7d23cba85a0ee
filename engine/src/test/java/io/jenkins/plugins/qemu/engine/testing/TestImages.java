package io.jenkins.plugins.qemu.engine.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.QemuEngine;
import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.image.Downloader;
import io.jenkins.plugins.qemu.engine.image.ImageCatalog;
import io.jenkins.plugins.qemu.engine.image.ImagePuller;
import io.jenkins.plugins.qemu.engine.image.ImageUsage;
import io.jenkins.plugins.qemu.engine.image.PullRequest;
import io.jenkins.plugins.qemu.engine.image.QemuImg;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.state.OwnerIdentity;
import io.jenkins.plugins.qemu.engine.state.ProcFs;
import io.jenkins.plugins.qemu.engine.state.ProcessStat;
import io.jenkins.plugins.qemu.engine.usage.VmUsage;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * What the integration tests share: where the real guest image is (built by
 * images/build-debian-12.sh; a missing image fails the test rather than skipping it), a short
 * state directory, and checks that nothing of a VM is left on the host.
 */
public final class TestImages {
    public static final String IMAGE = "debian-12";
    /** A stock cloud-style image (images/stock-debian-13.sh): none of our units, cloud-init only. */
    public static final String STOCK_IMAGE = "stock-debian-13";

    private TestImages() {}

    public static Path imagesDir() {
        Path dir = Path.of(System.getProperty("qemu.images.dir",
                System.getProperty("user.home") + "/.cache/qemu-agents/images"));
        assertTrue(Files.isRegularFile(dir.resolve(IMAGE).resolve("manifest.json")),
                "the test image " + IMAGE + " is missing in " + dir + ": build it with images/build-debian-12.sh " + dir);
        return dir;
    }

    /**
     * Installs the stock image into the test catalog through the real image pull, from the vendor-
     * style folder that host setup builds beside the catalog ({@code scripts/host-setup.sh
     * --with-test-images}), once per build of that folder; returns its catalog name.
     */
    public static String stockImage() throws IOException {
        Path src = imagesDir().resolveSibling("stock").resolve(STOCK_IMAGE);
        Path sums = src.resolve("SHA256SUMS");
        assertTrue(Files.isRegularFile(sums), "the stock test image is missing in " + src
                + ": scripts/test.sh builds it (scripts/host-setup.sh --with-test-images)");
        String want = Files.readAllLines(sums).stream().filter(l -> l.endsWith(" disk.qcow2")).map(l -> l.split(" ")[0])
                .findFirst().orElseThrow(() -> new IOException(sums + " lists no disk.qcow2"));
        ImageCatalog catalog = new ImageCatalog(imagesDir());
        if (Files.isRegularFile(catalog.imageDir(STOCK_IMAGE).resolve(ImageCatalog.MANIFEST))
                && want.equals(catalog.manifest(STOCK_IMAGE).originSha256())) {
            return STOCK_IMAGE;
        }
        PullRequest req = PullRequest.builder().name(STOCK_IMAGE).url(src.resolve("disk.qcow2").toUri()).sha256Sums(sums.toUri())
                .kernel(src.resolve("vmlinuz").toUri(), null).initrd(src.resolve("initrd.img").toUri(), null)
                .append(Files.readString(src.resolve("append")).strip()).replace(true).build();
        EngineConfig c = EngineConfig.defaults(imagesDir(), "test-pull");
        try (ImagePuller puller = new ImagePuller(catalog, new QemuImg(c.qemuImgBinary()), new ImageUsage(List.of()), new Downloader())) {
            puller.pull(req, line -> { });
        }
        return STOCK_IMAGE;
    }

    /** State under /tmp keeps socket paths far below the Unix limit. */
    public static EngineConfig config(Path stateDir) {
        return EngineConfig.defaults(imagesDir(), "test-" + ProcessHandle.current().pid()).withStateDir(stateDir);
    }

    /**
     * A service on the host's 127.0.0.1 that writes {@code greeting} to every connection and closes
     * it: what a guest reads through an egress relay proves data flows, not only that a port opens.
     */
    public static final class HostGreeter implements AutoCloseable {
        private final java.net.ServerSocket socket;
        private final Thread acceptor;

        public HostGreeter(String greeting) throws IOException {
            socket = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
            acceptor = new Thread(() -> {
                while (!socket.isClosed()) {
                    try (java.net.Socket s = socket.accept()) {
                        s.getOutputStream().write(greeting.getBytes(StandardCharsets.UTF_8));
                    } catch (IOException e) {
                        // closed, or the guest went away: the next connection is served alike
                    }
                }
            }, "host-greeter");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        public int port() {
            return socket.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /**
     * This process as it was {@code seconds} before this JVM image started: an owner incarnation
     * that is gone, for an engine playing a controller before its restart or a host agent that died.
     */
    public static OwnerIdentity earlierIncarnation(String ownerId, int seconds) {
        ProcFs proc = new ProcFs();
        ProcessStat self = proc.self();
        return new OwnerIdentity(ownerId, self.pid(), self.startTime(), proc.bootId(),
                java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime() - seconds * 1000L);
    }

    public static Path shortTempDir() throws IOException {
        return Files.createTempDirectory(Path.of("/tmp"), "qa-it-");
    }

    /** Pids of processes whose command line mentions {@code marker}, read from /proc. */
    public static List<Long> processesMentioning(String marker) throws IOException {
        List<Long> pids = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String cmdline = new String(Files.readAllBytes(p.resolve("cmdline"))).replace('\0', ' ');
                    if (cmdline.contains(marker) && Long.parseLong(name) != ProcessHandle.current().pid()) {
                        pids.add(Long.parseLong(name));
                    }
                } catch (IOException gone) {
                    // The process ended while we looked.
                }
            }
        }
        return pids;
    }

    public static boolean portOpen(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), (int) Duration.ofSeconds(1).toMillis());
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Closes an engine (which destroys its VMs) and asserts that nothing is left in its state
     * directory, which is then removed: the end of every test class that boots real guests.
     */
    public static void closeAndAssertNothingLeft(QemuEngine engine, Path stateDir) throws Exception {
        if (engine != null) {
            engine.close();
        }
        List<Path> left = filesBelow(stateDir);
        FileTree.delete(stateDir);
        assertEquals(List.of(), left, "files left in the state directory");
    }

    /** The VM the integration tests boot: the test image, 1 vCPU, 1 GiB, room for a slow TCG boot. */
    public static VmSpec.Builder guestSpec() {
        return VmSpec.builder().image(IMAGE).cpus(1).memoryMiB(1024).bootTimeout(Duration.ofMinutes(6));
    }

    /** Runs {@code command} in the guest, asserts it succeeded and returns its trimmed output. */
    public static String run(Vm vm, String command) throws Exception {
        return run(vm, command, Duration.ofMinutes(2));
    }

    /** {@link #run(Vm, String)} for a command that may take up to {@code timeout}. */
    public static String run(Vm vm, String command, Duration timeout) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = vm.exec(command, out, err, timeout);
        assertEquals(0, rc, "'" + command + "' failed: " + err.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8).strip();
    }

    /**
     * The VM's usage once it has the guest's memory figures: the guest's first balloon statistics
     * arrive a moment after the engine asks QEMU to poll them. Asserts they arrive within 30 s.
     */
    public static VmUsage awaitGuestMemory(Vm vm) throws InterruptedException {
        VmUsage u = vm.usage();
        for (int i = 0; i < 30 && u.guestMemUsedBytes() == VmUsage.UNKNOWN; i++) {
            Thread.sleep(1000);
            u = vm.usage();
        }
        assertTrue(u.guestMemUsedBytes() > 0 && u.guestMemPeakBytes() >= u.guestMemUsedBytes(),
                "the guest's balloon driver reports its memory: " + u);
        return u;
    }

    /** Every file below {@code dir}, for "nothing left behind" assertions. */
    /**
     * Everything below {@code dir} but the state directory's ownership marker, which an engine
     * writes once and keeps for the directory's lifetime: it is no VM's leftover.
     */
    public static List<Path> filesBelow(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> !p.equals(dir))
                    .filter(p -> !p.getFileName().toString().equals(io.jenkins.plugins.qemu.engine.state.StateDirectory.MARKER))
                    .toList();
        }
    }
}
