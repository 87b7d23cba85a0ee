package io.jenkins.plugins.qemu.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Guards the README's two commands on a fresh machine without needing one: the real
 * {@code scripts/*.sh} run in a copy of the repository with a {@code PATH} that lacks every tool
 * host setup installs, so its install path and its image build really run, through stand-ins for
 * {@code apt-get}, {@code sudo}, the image builder, {@code mvn} and {@code java} that chatter on
 * standard output the way the real ones do. The scripts must still hand the right images
 * directory on, which is what broke on fresh machines while CI (packages already installed) stayed
 * green.
 */
class ReadmeCommandsTest {
    /** Tools the scripts use that host setup never installs; everything it installs stays absent. */
    private static final List<String> BASE_TOOLS = List.of("bash", "sh", "env", "dirname", "sha256sum", "cut", "grep",
            "mv", "mkdir", "rm", "sort", "id", "find", "chown", "cat", "date", "head", "tail", "tr", "ls", "touch", "basename", "mktemp");
    private static final String APT_CHATTER = "Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]";

    @TempDir
    Path tmp;
    private Path repo;
    private Path bin;
    private Path home;
    private Path calls;

    @BeforeEach
    void freshMachine() throws IOException {
        Path real = Path.of(System.getProperty("user.dir")).getParent();
        repo = Files.createDirectories(tmp.resolve("repo"));
        Files.createDirectories(repo.resolve("scripts"));
        for (String s : List.of("host-setup.sh", "run.sh", "test.sh")) {
            Files.copy(real.resolve("scripts").resolve(s), repo.resolve("scripts").resolve(s));
        }
        Files.createDirectories(repo.resolve("engine/src/main"));
        Files.writeString(repo.resolve("engine/pom.xml"), "<project/>");
        home = Files.createDirectories(tmp.resolve("home"));
        calls = tmp.resolve("calls.log");
        bin = Files.createDirectories(tmp.resolve("bin"));
        for (String tool : BASE_TOOLS) {
            Files.createSymbolicLink(bin.resolve(tool), which(tool));
        }
        String record = "printf '%s\\n' \"$(basename \"$0\") $*\" >> " + calls + "\n";
        script(bin.resolve("apt-get"), record + "echo '" + APT_CHATTER + "'\necho 'Setting up qemu-system-x86 ...'\n");
        script(bin.resolve("sudo"), record + "exec \"$@\"\n");
        script(bin.resolve("mvn"), record + "echo '[INFO] BUILD SUCCESS'\n");
        script(bin.resolve("java"), record + "echo 'Linux qa-0123456789 6.1.0 x86_64 GNU/Linux'\n");
        // The image builder's stand-in prints on stdout like mmdebstrap does and leaves an image
        // built by "this revision", so host setup does not rebuild it on the next call.
        Files.writeString(Files.createDirectories(repo.resolve("images/guest")).resolve("qemu-agents-identity"), "#!/bin/bash\n");
        script(repo.resolve("images/stock-debian-13.sh"), record + "mkdir -p \"$1/stock-debian-13\"\n"
                + "echo 'I: extracting archives...'\ntouch \"$1/stock-debian-13/SHA256SUMS\"\n");
        script(repo.resolve("images/build-debian-12.sh"), record
                + "echo 'I: running --essential-hook in shell'\n"
                + "mkdir -p \"$1/debian-12\"\n"
                + "printf '{\"buildScriptSha256\": \"%s\"}\\n' \"$(cat \"$0\" \"$(dirname \"$0\")\"/guest/* | sha256sum | cut -d' ' -f1)\" > \"$1/debian-12/manifest.json\"\n");
    }

    @Test
    void hostSetupPrintsOnlyTheImagesDirectoryWhileItInstallsAndBuilds() throws Exception {
        Result r = run("scripts/host-setup.sh");
        assertEquals(0, r.exit, r.stderr);
        assertEquals(images() + "\n", r.stdout, "host setup's stdout is its contract; apt and the builder go to stderr");
        String log = Files.readString(calls);
        assertTrue(log.contains("apt-get install") && log.contains("qemu-system-x86"), "the install path ran: " + log);
        assertTrue(log.contains("build-debian-12.sh " + images()), "the image build ran: " + log);
        assertTrue(r.stderr.contains(APT_CHATTER), "apt's progress is still shown, on stderr: " + r.stderr);
    }

    @Test
    void testCommandHandsTheImagesDirectoryToMaven() throws Exception {
        Result r = run("scripts/test.sh");
        assertEquals(0, r.exit, r.stderr);
        assertTrue(Files.readString(calls).contains("mvn -B -ntp -Dengine-only -Dqemu.images.dir=" + images() + " verify\n"),
                () -> "mvn got the wrong images directory: " + read(calls));
        assertTrue(Files.readString(calls).contains("stock-debian-13.sh " + home.resolve(".cache/qemu-agents/stock")),
                () -> "the tests' stock image was built beside the catalog: " + read(calls));
    }

    @Test
    void runCommandHandsTheImagesDirectoryToTheEngine() throws Exception {
        Result r = run("scripts/run.sh", "uname", "-a");
        assertEquals(0, r.exit, r.stderr);
        assertEquals("Linux qa-0123456789 6.1.0 x86_64 GNU/Linux\n", r.stdout, "only the command's output on stdout");
        assertFalse(Files.readString(calls).contains("stock-debian-13.sh"), "run needs no test image");
        assertTrue(Files.readString(calls).contains("java -jar " + repo.resolve("engine/target/qemu-agents-engine.jar")
                + " run --images-dir " + images() + " --image debian-12 -- uname -a\n"), () -> "java got: " + read(calls));
    }

    @Test
    void aLeadingDoubleDashMeansNoOptions() throws Exception {
        Result r = run("scripts/run.sh", "--", "echo", "ok");
        assertEquals(0, r.exit, r.stderr);
        assertTrue(Files.readString(calls).contains(" run --images-dir " + images() + " --image debian-12 -- echo ok\n"),
                () -> "java got: " + read(calls));
    }

    @Test
    void anImageFromAnotherBuilderRevisionIsRebuiltWithoutTouchingStdout() throws Exception {
        Path stale = Files.createDirectories(images().resolve("debian-12"));
        Files.writeString(stale.resolve("manifest.json"), "{\"buildScriptSha256\": \"0000\"}\n");
        Result r = run("scripts/host-setup.sh");
        assertEquals(0, r.exit, r.stderr);
        assertEquals(images() + "\n", r.stdout);
        byte[] script = Files.readAllBytes(repo.resolve("images/build-debian-12.sh"));
        byte[] guest = Files.readAllBytes(repo.resolve("images/guest/qemu-agents-identity"));
        byte[] both = java.nio.ByteBuffer.allocate(script.length + guest.length).put(script).put(guest).array();
        assertTrue(Files.readString(images().resolve("debian-12/manifest.json")).contains(sha256(both)));
    }

    private Path images() {
        return home.resolve(".cache/qemu-agents/images");
    }

    private record Result(int exit, String stdout, String stderr) {}

    private Result run(String script, String... args) throws IOException, InterruptedException {
        List<String> argv = new java.util.ArrayList<>(List.of(which("bash").toString(), repo.resolve(script).toString()));
        argv.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(argv).directory(tmp.toFile());
        Map<String, String> env = pb.environment();
        env.clear();
        env.put("PATH", bin.toString());
        env.put("HOME", home.toString());
        pb.redirectOutput(tmp.resolve("stdout").toFile()).redirectError(tmp.resolve("stderr").toFile());
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(script + " did not finish within 60 s");
        }
        return new Result(p.exitValue(), read(tmp.resolve("stdout")), read(tmp.resolve("stderr")));
    }

    private static void script(Path file, String body) throws IOException {
        Files.writeString(file, "#!/bin/bash\n" + body);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static Path which(String tool) throws IOException {
        for (String dir : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        throw new IOException(tool + " not found in /usr/bin, /bin, /usr/sbin or /sbin");
    }

    private static String sha256(byte[] data) throws Exception {
        byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(data);
        return java.util.HexFormat.of().formatHex(d);
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
