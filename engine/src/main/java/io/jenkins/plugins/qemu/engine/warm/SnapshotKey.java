package io.jenkins.plugins.qemu.engine.warm;

import io.jenkins.plugins.qemu.engine.image.Sha256;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What a warm snapshot depends on, in two parts. The <em>template</em> part (image name, vCPUs,
 * memory, machine, agent user, ...) picks the slot: one snapshot per distinct template. The
 * <em>environment</em> part (the base image's checksum and file stamps, kernel, QEMU version,
 * accelerator, our device-model revision) says whether the snapshot in that slot still matches
 * what a restore would run on; any difference makes it stale, and {@link #differences} says
 * which, so the log line names the reason.
 */
public record SnapshotKey(String image, SortedMap<String, String> template, SortedMap<String, String> environment) {

    public SnapshotKey {
        Objects.requireNonNull(image, "image");
        template = new TreeMap<>(template);
        environment = new TreeMap<>(environment);
    }

    public static SnapshotKey of(String image, Map<String, String> template, Map<String, String> environment) {
        return new SnapshotKey(image, new TreeMap<>(template), new TreeMap<>(environment));
    }

    /** The slot's directory name: the image name (already safe as a file name) and a template hash. */
    public String slot() {
        MessageDigest d = Sha256.newDigest();
        d.update(image.getBytes(StandardCharsets.UTF_8));
        template.forEach((k, v) -> {
            d.update((k + "=" + v + "\n").getBytes(StandardCharsets.UTF_8));
        });
        return image + "-" + Sha256.hex(d).substring(0, 16);
    }

    /** The environment entries whose values differ from {@code other}'s, as "name (old -> new)". */
    public List<String> differences(Map<String, String> older) {
        List<String> out = new ArrayList<>();
        TreeMap<String, String> all = new TreeMap<>(older);
        all.putAll(environment);
        for (String k : all.keySet()) {
            String was = older.get(k);
            String now = environment.get(k);
            if (!Objects.equals(was, now)) {
                out.add(k + " (" + abbreviate(was) + " -> " + abbreviate(now) + ")");
            }
        }
        return out;
    }

    private static String abbreviate(String s) {
        if (s == null) {
            return "none";
        }
        // Long enough for a file stamp (size, mtime, inode), which is what usually differs.
        return s.length() > 120 ? s.substring(0, 117) + "..." : s;
    }
}
