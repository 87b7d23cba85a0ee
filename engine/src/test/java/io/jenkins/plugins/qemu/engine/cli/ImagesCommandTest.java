package io.jenkins.plugins.qemu.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.image.Compression;
import io.jenkins.plugins.qemu.engine.image.Sha256;
import io.jenkins.plugins.qemu.engine.image.TestDisks;
import io.jenkins.plugins.qemu.engine.image.TestHttpServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code qemu-agents images ...} end to end: arguments, tables, exit codes, two processes at once. */
class ImagesCommandTest {
    @TempDir
    Path work;

    private record Result(int rc, String out, String err) {}

    private Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private String[] withCatalog(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--images-dir", work.resolve("catalog").toString(), "--state-dir", work.resolve("state").toString()));
        if (args[1].equals("list") || args[1].equals("verify") || args[1].equals("build")) {
            all = all.subList(0, all.size() - 2);
        }
        return all.toArray(String[]::new);
    }

    @Test
    void pullListVerifyRemove() throws Exception {
        Path disk = TestDisks.qcow2(work, "tiny.qcow2");
        Path gz = TestDisks.compress(disk, Compression.GZIP);

        Result r = run(withCatalog("images", "pull", "tiny", "--url", gz.toUri().toString(), "--sha256", Sha256.of(gz)));
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().startsWith("tiny qcow2 sha256:" + Sha256.of(disk)), r.out());
        assertTrue(r.err().contains("tiny.qcow2.gz: downloaded"), r.err());

        // A plain path is taken as a file:// URL.
        r = run(withCatalog("images", "pull", "second", "--url", disk.toString(), "--sha256", Sha256.of(disk), "--format", "qcow2"));
        assertEquals(0, r.rc(), r.err());

        r = run(withCatalog("images", "list"));
        assertEquals(0, r.rc(), r.err());
        String[] lines = r.out().split("\n");
        assertEquals(3, lines.length, r.out());
        assertTrue(lines[0].matches("NAME +FORMAT +VIRTUAL +ON DISK +KERNEL +CLOUD-INIT +FAST PATH +WARM START +ADDED +ORIGIN"), lines[0]);
        assertTrue(lines[2].matches("tiny +qcow2 +64\\.0 MiB +[0-9.]+ MiB +no +declared +no +no \\(firmware boot\\) +20[0-9-]+T[0-9:]+Z +file:/.*tiny\\.qcow2\\.gz"), lines[2]);

        r = run(withCatalog("images", "verify"));
        assertEquals(0, r.rc(), r.err());
        assertEquals("second: ok\ntiny: ok\n", r.out());

        r = run(withCatalog("images", "rm", "tiny"));
        assertEquals(0, r.rc(), r.err());
        r = run(withCatalog("images", "list"));
        assertEquals(2, r.out().split("\n").length, r.out());
    }

    @Test
    void badUsageAndBadDownloadsHaveClearMessagesAndExitCodes() throws Exception {
        Path disk = TestDisks.qcow2(work, "d.qcow2");
        String url = disk.toUri().toString();

        Result r = run("images");
        assertEquals(Main.USAGE, r.rc());
        assertTrue(r.err().contains("usage: qemu-agents images list"), r.err());

        r = run(withCatalog("images", "pull", "../etc", "--url", url, "--sha256", Sha256.of(disk)));
        assertEquals(Main.USAGE, r.rc());
        assertTrue(r.err().contains("image: '../etc' is not a valid image name"), r.err());

        r = run(withCatalog("images", "pull", "x", "--url", url));
        assertEquals(Main.USAGE, r.rc());
        assertTrue(r.err().contains("--sha256: (missing) is required for --url"), r.err());

        r = run(withCatalog("images", "pull", "x", "--url", url, "--sha256", "12".repeat(32)));
        assertEquals(ImagesCommand.FAILED, r.rc());
        assertTrue(r.err().contains("checksum mismatch"), r.err());

        r = run(withCatalog("images", "pull", "x", "--url", url, "--sha256", Sha256.of(disk), "--bogus", "1"));
        assertEquals(Main.USAGE, r.rc());
        assertTrue(r.err().contains("option: '--bogus' is not a known option of 'images pull'"), r.err());

        r = run(withCatalog("images", "rm", "nothing"));
        assertEquals(Main.USAGE, r.rc());
        assertTrue(r.err().contains("image: 'nothing' is not in the image catalog"), r.err());

        r = run(withCatalog("images", "build", "windows-11"));
        assertEquals(Main.USAGE, r.rc());
        assertTrue(r.err().contains("images that can be built: debian-12"), r.err());
        assertEquals(List.of(), TestDisks.leftovers(work.resolve("catalog")));
    }

    @Test
    void twoProcessesPullingTheSameImageDownloadItOnce() throws Exception {
        Path disk = TestDisks.qcow2(work, "shared.qcow2");
        Path xz = TestDisks.compress(disk, Compression.XZ);
        try (TestHttpServer server = new TestHttpServer()) {
            URI url = server.serve("/shared.qcow2.xz", xz);
            server.delay(Duration.ofSeconds(2));
            List<Process> processes = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                List<String> argv = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
                argv.addAll(List.of(withCatalog("images", "pull", "shared", "--url", url.toString(), "--sha256", Sha256.of(xz))));
                processes.add(new ProcessBuilder(argv).redirectErrorStream(true).start());
            }
            for (Process p : processes) {
                String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(p.waitFor(2, TimeUnit.MINUTES));
                assertEquals(0, p.exitValue(), output);
                assertTrue(output.contains("shared qcow2 sha256:" + Sha256.of(disk)), output);
            }
            assertEquals(1, server.hits("/shared.qcow2.xz"), "one download for two processes");
        }
        assertEquals(List.of("shared", "shared/disk.qcow2", "shared/manifest.json"),
                TestDisks.leftovers(work.resolve("catalog")).stream().sorted().toList());
        assertTrue(Files.isRegularFile(work.resolve("catalog/.locks/shared.lock")));
    }
}
