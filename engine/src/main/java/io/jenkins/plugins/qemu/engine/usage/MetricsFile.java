package io.jenkins.plugins.qemu.engine.usage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.state.VmDir;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * An owner's {@link ProvisioningMetrics.Snapshot} in the state directory's {@code metrics}
 * folder, one file per counted source (a cloud of a controller), so that {@code qemu-agents
 * metrics} in another process shows the same counters the Jenkins metrics plugin gets. Written to
 * a temporary name and renamed, so a reader sees a whole snapshot or none; the folder is the
 * owner's only, like the rest of the state directory.
 */
public final class MetricsFile {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,120}");
    private static final String SUFFIX = ".json";

    private MetricsFile() {}

    /** The file of {@code name} (letters, digits, '.', '_', '-'), e.g. an owner id and a cloud's id. */
    public static Path of(Path stateDir, String name) {
        if (!NAME.matcher(name).matches()) {
            throw new InvalidInputException("metrics file name", name, "must be 1 to 121 letters, digits, '.', '_' or '-', starting with a letter or digit");
        }
        return stateDir.resolve(VmDir.METRICS).resolve(name + SUFFIX);
    }

    public static void write(Path file, ProvisioningMetrics.Snapshot s) throws IOException {
        FileTree.ownerOnlyDirectories(file.getParent());
        ObjectNode m = JSON.createObjectNode();
        m.put("source", s.source());
        m.put("since", s.since().toString());
        m.put("at", s.at().toString());
        ObjectNode counters = m.putObject("counters");
        s.counters().forEach(counters::put);
        ObjectNode timings = m.putObject("timings");
        s.timings().forEach((name, t) -> {
            ObjectNode o = timings.putObject(name);
            o.put("count", t.count());
            o.put("window", t.window());
            o.put("medianMillis", t.medianMillis());
            o.put("p95Millis", t.p95Millis());
            o.put("maxMillis", t.maxMillis());
        });
        ObjectNode running = m.putObject("running");
        s.running().forEach(running::put);
        Path temp = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.write(temp, JSON.writeValueAsBytes(m));
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    public static ProvisioningMetrics.Snapshot read(Path file) throws IOException {
        JsonNode m;
        try {
            m = JSON.readTree(file.toFile());
            Map<String, Long> counters = new TreeMap<>();
            fields(m.path("counters")).forEach((k, v) -> counters.put(k, v.asLong()));
            Map<String, TimingWindow.Summary> timings = new TreeMap<>();
            fields(m.path("timings")).forEach((k, v) -> timings.put(k, new TimingWindow.Summary(v.path("count").asLong(),
                    v.path("window").asInt(), v.path("medianMillis").asLong(), v.path("p95Millis").asLong(),
                    v.path("maxMillis").asLong())));
            Map<String, Integer> running = new TreeMap<>();
            fields(m.path("running")).forEach((k, v) -> running.put(k, v.asInt()));
            return new ProvisioningMetrics.Snapshot(m.path("source").asText(), Instant.parse(m.path("since").asText()),
                    Instant.parse(m.path("at").asText()), counters, timings, running);
        } catch (IOException | RuntimeException e) {
            // Jackson's own message names no file; the reader of `metrics` needs to know which.
            throw new IOException("metrics file " + file + " cannot be read: " + e.getMessage(), e);
        }
    }

    /** Every snapshot in the state directory, by file name; none when nothing was counted there yet. */
    public static Map<String, ProvisioningMetrics.Snapshot> readAll(Path stateDir, List<String> unreadable) throws IOException {
        Path dir = stateDir.resolve(VmDir.METRICS);
        Map<String, ProvisioningMetrics.Snapshot> all = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            return all;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                try {
                    all.put(name.substring(0, name.length() - SUFFIX.length()), read(f));
                } catch (IOException e) {
                    unreadable.add(e.getMessage());
                }
            }
        }
        return all;
    }

    private static Map<String, JsonNode> fields(JsonNode n) {
        Map<String, JsonNode> out = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), e.getValue());
        }
        return out;
    }

}
