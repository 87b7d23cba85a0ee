package io.jenkins.plugins.qemu.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The package map of engine/README.md, checked: every main source file may name (import, or
 * write fully qualified) only engine packages below its own on the map, so the packages point one
 * way and no two reach each other. A package missing from the map fails too, so a new one gets a
 * place on it (and in the README) before it is used.
 */
class PackageMapTest {
    private static final String ROOT = "(root)";
    /** Higher levels may use lower ones; the numbers follow the README's drawing from its bottom row up. */
    private static final Map<String, Integer> LEVEL = Map.ofEntries(
            Map.entry("config", 0), Map.entry("guest", 0),
            Map.entry("ssh", 1),
            Map.entry("image", 2), Map.entry("seed", 2), Map.entry("qmp", 2), Map.entry("state", 2), Map.entry("net", 2),
            Map.entry("usage", 3),
            Map.entry("vm", 4),
            Map.entry("warm", 5), Map.entry("reaper", 5),
            Map.entry(ROOT, 6),
            Map.entry("cli", 7), Map.entry("bench", 7), Map.entry("cloud", 7),
            Map.entry("host", 8));
    /** Uses between packages of one level that the README allows by name. */
    private static final Set<String> ALLOWED_SIDEWAYS = Set.of("cli -> bench");
    private static final Pattern REFERENCE = Pattern.compile("io\\.jenkins\\.plugins\\.qemu\\.engine\\.(?:([a-z]+)\\.|[A-Z])");
    private static final Path SOURCES = Path.of("src/main/java/io/jenkins/plugins/qemu/engine");

    @Test
    void everyPackageUsesOnlyPackagesBelowItOnTheMap() throws IOException {
        assertTrue(Files.isDirectory(SOURCES), "run from the engine module: " + SOURCES.toAbsolutePath());
        List<String> wrong = new ArrayList<>();
        Set<String> packages = new TreeSet<>();
        int files = 0;
        try (Stream<Path> all = Files.walk(SOURCES)) {
            for (Path file : all.filter(f -> f.toString().endsWith(".java")).toList()) {
                files++;
                String from = packageOf(file);
                packages.add(from);
                Matcher m = REFERENCE.matcher(Files.readString(file));
                Set<String> used = new TreeSet<>();
                while (m.find()) {
                    used.add(m.group(1) == null ? ROOT : m.group(1));
                }
                used.remove(from);
                for (String to : used) {
                    String edge = from + " -> " + to;
                    Integer a = LEVEL.get(from);
                    Integer b = LEVEL.get(to);
                    if (a == null || b == null) {
                        wrong.add(SOURCES.relativize(file) + ": " + edge + " (a package not on the map)");
                    } else if (b > a || (b.equals(a) && !ALLOWED_SIDEWAYS.contains(edge))) {
                        wrong.add(SOURCES.relativize(file) + ": " + edge + " (level " + a + " uses level " + b + ")");
                    }
                }
            }
        }
        assertTrue(files > 100, "found the sources: " + files + " files");
        assertEquals(new TreeSet<>(LEVEL.keySet()), packages, "the packages on the map are the packages there are");
        assertEquals(List.of(), wrong);
    }

    private static String packageOf(Path file) {
        Path dir = SOURCES.relativize(file).getParent();
        return dir == null ? ROOT : dir.toString().replace('/', '.');
    }
}
