package io.jenkins.plugins.qemu.engine.seed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Checks the images with the tools that will read them for real (xorriso, isoinfo, isovfy, blkid)
 * rather than with a parser of our own, which would share any misreading of the specs. A missing
 * tool fails the test by name: CI installs them, and a silent skip would hide an untested seed.
 */
class IsoImageWriterTest {
    private static final Instant FIXED = Instant.parse("2024-05-06T07:08:09Z");

    @TempDir
    Path tmp;

    // ---- read back with real tools -------------------------------------------------------

    @Test
    void xorrisoSeesRealNamesAndExactContents() throws Exception {
        Map<String, byte[]> files = seedFiles();
        Path iso = write(files);

        Result ls = run("xorriso", "-indev", iso.toString(), "-report_about", "WARNING", "-ls", "/", "--");
        assertNoXorrisoComplaints(ls);
        assertEquals(quoted(files.keySet()), quotedLines(ls.out()), ls.describe());

        assertEquals(files.keySet(), extractAll(iso).keySet());
        extractAll(iso).forEach((name, content) -> assertArrayEquals(files.get(name), content, name));
    }

    @Test
    void isoinfoFindsVolumeIdJolietAndRockRidge() throws Exception {
        Path iso = write(seedFiles());

        String d = run("isoinfo", "-d", "-i", iso.toString()).out();
        assertTrue(d.contains("Volume id: cidata\n"), d);
        assertTrue(d.contains("Joliet with UCS level 3 found"), d);
        assertTrue(d.contains("Rock Ridge signatures version 1 found"), d);
        assertTrue(d.contains("Logical block size is: 2048"), d);
        assertTrue(d.contains("Volume size is: " + Files.size(iso) / 2048 + "\n"), d);
    }

    @Test
    void isoinfoListsRockRidgeJolietAndPlainTrees() throws Exception {
        Path iso = write(seedFiles());

        String rock = run("isoinfo", "-R", "-l", "-i", iso.toString()).out();
        for (String name : List.of("meta-data", "user-data", "network-config")) {
            assertTrue(rock.lines().anyMatch(l -> l.startsWith("-r--r--r--") && l.endsWith(" " + name + " ")), rock);
        }
        assertTrue(rock.lines().anyMatch(l -> l.startsWith("dr-xr-xr-x") && l.endsWith(" . ")), rock);

        String joliet = run("isoinfo", "-J", "-l", "-i", iso.toString()).out();
        for (String name : List.of("meta-data", "user-data", "network-config")) {
            assertTrue(joliet.lines().anyMatch(l -> l.endsWith(" " + name + " ")), joliet);
        }

        String plain = run("isoinfo", "-l", "-i", iso.toString()).out();
        for (String name : List.of("META_DAT.;1", "USER_DAT.;1", "NETWORK_.;1")) {
            assertTrue(plain.lines().anyMatch(l -> l.endsWith(" " + name + " ")), plain);
        }
    }

    @Test
    void jolietTreePointsAtTheSameContents() throws Exception {
        Map<String, byte[]> files = seedFiles();
        Path iso = write(files);
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            Result r = run("isoinfo", "-J", "-i", iso.toString(), "-x", "/" + f.getKey());
            assertArrayEquals(f.getValue(), r.stdout, f.getKey());
        }
    }

    @Test
    void blkidReportsIso9660WithLabelCidata() throws Exception {
        Path iso = write(seedFiles());
        // -p probes the file itself, as udev does, instead of consulting the blkid cache.
        Set<String> lines = run("blkid", "-p", "-o", "export", iso.toString()).out().lines().collect(Collectors.toSet());
        assertTrue(lines.contains("LABEL=cidata"), lines::toString);
        assertTrue(lines.contains("TYPE=iso9660"), lines::toString);
    }

    @Test
    void isovfyFindsNoErrors() throws Exception {
        Path iso = write(seedFiles());
        Result r = run("isovfy", iso.toString());
        assertTrue(r.out().contains("No errors found"), r.describe());
    }

    @Test
    void emptyMultiSectorAndLargeFilesRoundTrip() throws Exception {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("empty", new byte[0]);
        files.put("two-sectors.bin", random(2049, 1));
        files.put("exact-sector", random(2048, 2));
        files.put("big-file.yaml", random(300 * 1024 + 7, 3));
        files.put("also-empty", new byte[0]);
        Path iso = write(files);

        Map<String, byte[]> extracted = extractAll(iso);
        assertEquals(files.keySet(), extracted.keySet());
        files.forEach((name, content) -> assertArrayEquals(content, extracted.get(name), name));
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            assertArrayEquals(f.getValue(), run("isoinfo", "-J", "-i", iso.toString(), "-x", "/" + f.getKey()).stdout);
        }
        assertTrue(run("isovfy", iso.toString()).out().contains("No errors found"));
    }

    @Test
    void manyFilesSpillTheDirectoriesOverSeveralSectors() throws Exception {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (int i = 0; i < 60; i++) {
            // Same 8.3 prefix for all, so mangling has to make every primary name unique.
            files.put("user-data-variant-" + i, ("content " + i + "\n").getBytes(StandardCharsets.UTF_8));
        }
        Path iso = write(files);

        Map<String, byte[]> extracted = extractAll(iso);
        assertEquals(files.keySet(), extracted.keySet());
        files.forEach((name, content) -> assertArrayEquals(content, extracted.get(name), name));
        String joliet = run("isoinfo", "-J", "-l", "-i", iso.toString()).out();
        files.keySet().forEach(name -> assertTrue(joliet.contains(" " + name + " \n"), name));
        String plain = run("isoinfo", "-l", "-i", iso.toString()).out();
        Set<String> isoNames = plain.lines().filter(l -> l.endsWith(";1 ")).map(String::strip)
                .map(l -> l.substring(l.lastIndexOf(' ') + 1)).collect(Collectors.toSet());
        assertEquals(files.size(), isoNames.size(), plain);
    }

    // ---- determinism and file handling ---------------------------------------------------

    @Test
    void identicalInputGivesIdenticalBytes() throws Exception {
        assertArrayEquals(bytes(seedWriter(FIXED)), bytes(seedWriter(FIXED)));
        assertArrayEquals(bytes(new IsoImageWriter("cidata")), bytes(new IsoImageWriter("cidata")));
        assertFalse(Arrays.equals(bytes(seedWriter(FIXED)), bytes(seedWriter(FIXED.plusSeconds(1)))));
    }

    @Test
    void writeToCanBeRepeated() throws Exception {
        IsoImageWriter w = seedWriter(FIXED);
        assertArrayEquals(bytes(w), bytes(w));
    }

    @Test
    void imageIsWholeSectorsWithDescriptorsInPlace() throws Exception {
        byte[] iso = bytes(seedWriter(FIXED));
        assertEquals(0, iso.length % 2048);
        assertEquals(1, iso[16 * 2048]);
        assertEquals("CD001", new String(iso, 16 * 2048 + 1, 5, StandardCharsets.US_ASCII));
        assertEquals(2, iso[17 * 2048]);
        assertEquals("%/E", new String(iso, 17 * 2048 + 88, 3, StandardCharsets.US_ASCII));
        assertEquals((byte) 255, iso[18 * 2048]);
        assertEquals("cidata" + " ".repeat(26), new String(iso, 16 * 2048 + 40, 32, StandardCharsets.US_ASCII));
        assertEquals("cidata" + " ".repeat(10), new String(iso, 17 * 2048 + 40, 32, StandardCharsets.UTF_16BE));
    }

    @Test
    void writtenFileIsOwnerOnly() throws Exception {
        Path iso = tmp.resolve("seed.iso");
        seedWriter(FIXED).write(iso);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(iso)));
        assertArrayEquals(bytes(seedWriter(FIXED)), Files.readAllBytes(iso));
    }

    @Test
    void refusesToOverwriteAnExistingFile() throws Exception {
        Path iso = tmp.resolve("seed.iso");
        Files.writeString(iso, "keep me");
        assertThrows(FileAlreadyExistsException.class, () -> seedWriter(FIXED).write(iso));
        assertEquals("keep me", Files.readString(iso));
    }

    // ---- input validation ----------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"", "a/b", "/meta-data", "nul\0byte", ".", "..", "semi;1", "back\\slash", "star*",
            "colon:", "what?", "new\nline", "caf\u00e9"})
    void rejectsBadNames(String name) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new IsoImageWriter("cidata").addFile(name, new byte[0]));
        String shown = name.replace("\0", "\\x00").replace("\n", "\\x0a");
        assertTrue(e.getMessage().contains("'" + shown + "'"), e.getMessage());
    }

    @Test
    void rejectsNullAndOverlongNamesAndNullContent() {
        assertThrows(IllegalArgumentException.class, () -> new IsoImageWriter("cidata").addFile(null, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> new IsoImageWriter("cidata").addFile("x".repeat(65), new byte[0]));
        new IsoImageWriter("cidata").addFile("x".repeat(64), new byte[0]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new IsoImageWriter("cidata").addFile("user-data", null));
        assertTrue(e.getMessage().contains("user-data"), e.getMessage());
    }

    @Test
    void rejectsDuplicateNames() {
        IsoImageWriter w = new IsoImageWriter("cidata").addFile("user-data", new byte[1]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.addFile("user-data", new byte[2]));
        assertTrue(e.getMessage().contains("'user-data'"), e.getMessage());
        w.addFile("USER-DATA", new byte[3]); // Rock Ridge and Joliet names are case-sensitive
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "ci data", "cidata/", "cidata;1", "cid\u00e4ta", "seventeen-chars-x"})
    void rejectsBadVolumeIds(String volumeId) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new IsoImageWriter(volumeId));
        assertTrue(e.getMessage().contains("'" + volumeId + "'"), e.getMessage());
    }

    @Test
    void acceptsUsualVolumeIds() {
        new IsoImageWriter("cidata");
        new IsoImageWriter("CIDATA");
        new IsoImageWriter("config-2");
        new IsoImageWriter("sixteen_chars_ok");
        assertThrows(IllegalArgumentException.class, () -> new IsoImageWriter(null));
    }

    @Test
    void rejectsTimestampsIsoCannotStore() {
        assertThrows(IllegalArgumentException.class, () -> new IsoImageWriter("cidata", Instant.parse("1899-12-31T23:59:59Z")));
        assertThrows(IllegalArgumentException.class, () -> new IsoImageWriter("cidata", Instant.parse("2156-01-01T00:00:00Z")));
        assertThrows(IllegalArgumentException.class, () -> new IsoImageWriter("cidata", null));
    }

    @Test
    void laterChangesToTheCallersArrayDoNotLeakIn() throws Exception {
        byte[] content = "instance-id: a\n".getBytes(StandardCharsets.UTF_8);
        IsoImageWriter w = new IsoImageWriter("cidata", FIXED).addFile("meta-data", content);
        byte[] before = bytes(w);
        content[0] = 'X';
        assertArrayEquals(before, bytes(w));
    }

    // ---- helpers -------------------------------------------------------------------------

    private static Map<String, byte[]> seedFiles() {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("meta-data", "instance-id: iid-test-1\nlocal-hostname: agent-1\n".getBytes(StandardCharsets.UTF_8));
        files.put("user-data", ("#cloud-config\nusers:\n  - name: jenkins\n    ssh_authorized_keys:\n"
                + "      - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITEST test\n").getBytes(StandardCharsets.UTF_8));
        files.put("network-config", "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n".getBytes(StandardCharsets.UTF_8));
        return files;
    }

    private static IsoImageWriter seedWriter(Instant timestamp) {
        IsoImageWriter w = new IsoImageWriter("cidata", timestamp);
        seedFiles().forEach(w::addFile);
        return w;
    }

    private Path write(Map<String, byte[]> files) throws IOException {
        IsoImageWriter w = new IsoImageWriter("cidata", FIXED);
        files.forEach(w::addFile);
        Path iso = Files.createTempFile(tmp, "seed", ".iso");
        Files.delete(iso);
        w.write(iso);
        return iso;
    }

    private static byte[] bytes(IsoImageWriter w) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        w.writeTo(out);
        return out.toByteArray();
    }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    private Map<String, byte[]> extractAll(Path iso) throws Exception {
        Path dir = Files.createTempDirectory(tmp, "extract");
        Files.delete(dir);
        Result r = run("xorriso", "-osirrox", "on", "-indev", iso.toString(), "-report_about", "WARNING",
                "-extract", "/", dir.toString());
        assertNoXorrisoComplaints(r);
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().collect(Collectors.toList())) {
                out.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }

    private static void assertNoXorrisoComplaints(Result r) {
        for (String severity : List.of("WARNING", "SORRY", "FAILURE", "FATAL", "ABORT")) {
            assertFalse(r.out().contains(severity) || r.err().contains(severity), r.describe());
        }
    }

    private static Set<String> quoted(Set<String> names) {
        return names.stream().map(n -> "'" + n + "'").collect(Collectors.toCollection(TreeSet::new));
    }

    private static Set<String> quotedLines(String out) {
        return out.lines().filter(l -> l.startsWith("'")).collect(Collectors.toCollection(TreeSet::new));
    }

    private record Result(List<String> command, int exitCode, byte[] stdout, byte[] stderr) {
        String out() {
            return new String(stdout, StandardCharsets.UTF_8);
        }

        String err() {
            return new String(stderr, StandardCharsets.UTF_8);
        }

        String describe() {
            return String.join(" ", command) + " exited " + exitCode + "\nstdout:\n" + out() + "\nstderr:\n" + err();
        }
    }

    private Result run(String tool, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(locate(tool));
        command.addAll(List.of(args));
        Path out = Files.createTempFile(tmp, tool, ".out");
        Path err = Files.createTempFile(tmp, tool, ".err");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(String.join(" ", command) + " did not finish within 60 s");
        }
        Result r = new Result(command, p.exitValue(), Files.readAllBytes(out), Files.readAllBytes(err));
        assertEquals(0, r.exitCode(), r::describe);
        return r;
    }

    /** blkid lives in /sbin or /usr/sbin, which a non-root PATH often lacks. */
    private static String locate(String tool) {
        List<String> dirs = new ArrayList<>(Arrays.asList(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
        for (String dir : dirs) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return Path.of(dir, tool).toString();
            }
        }
        String pkg = switch (tool) {
            case "xorriso" -> "xorriso";
            case "isoinfo", "isovfy" -> "genisoimage";
            case "blkid" -> "util-linux";
            default -> tool;
        };
        return fail("Required tool '" + tool + "' was not found on PATH or in /usr/sbin, /sbin; install the Debian package '"
                + pkg + "' (CI installs it) - these tests read the image back with real tools and must not be skipped");
    }
}
