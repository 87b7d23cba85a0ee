package io.jenkins.plugins.qemu.engine.warm;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.usage.NicCounters;
import io.jenkins.plugins.qemu.engine.state.VmDir;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.logging.Logger;

/**
 * The warm snapshots below {@code <stateDir>/snapshots}: one owner-only directory per template
 * slot holding {@code disk.qcow2}, {@code state.bin} (both read-only once published) and
 * {@code meta.json}, written last. A snapshot is assembled in a {@code .build-*} directory and
 * renamed into its slot in one step, so a reader sees a complete snapshot or none; replacing a
 * stale one renames it away first and deletes it afterwards. Running clones of a deleted
 * snapshot are unaffected: QEMU holds its backing files open.
 */
public final class SnapshotStore {
    private static final Logger LOG = Logger.getLogger(SnapshotStore.class.getName());
    public static final String DIR = VmDir.SNAPSHOTS;
    public static final String FORMAT = "warm-1";
    static final String META = "meta.json";
    static final String DISK = "disk.qcow2";
    static final String STATE = "state.bin";
    private static final Duration ABANDONED_BUILD = Duration.ofHours(1);
    /** A slot nobody restored from for this long belongs to a template that changed or is gone. */
    public static final Duration UNUSED = Duration.ofDays(14);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path dir;
    private final ObjectMapper json = new ObjectMapper();

    public SnapshotStore(Path stateDir) {
        this.dir = stateDir.resolve(DIR);
    }

    public Path dir() {
        return dir;
    }

    /** Either a usable snapshot or the reason there is none, for the log line of a cold boot. */
    public record Lookup(Snapshot snapshot, String reason) {
        public boolean ready() {
            return snapshot != null;
        }
    }

    public Lookup lookup(SnapshotKey key) {
        Path slot = dir.resolve(key.slot());
        Path meta = slot.resolve(META);
        JsonNode m;
        try {
            m = json.readTree(Files.readAllBytes(meta));
        } catch (NoSuchFileException e) {
            return new Lookup(null, "no warm snapshot yet for image '" + key.image() + "' with this template (" + key.slot() + ")");
        } catch (IOException e) {
            return new Lookup(null, "warm snapshot " + slot + " is unreadable: " + e.getMessage());
        }
        if (!FORMAT.equals(m.path("format").asText())) {
            return new Lookup(null, "warm snapshot " + key.slot() + " has format '" + m.path("format").asText() + "', not " + FORMAT);
        }
        Map<String, String> env = json.convertValue(m.path("environment"), new TypeReference<Map<String, String>>() {});
        List<String> changed = key.differences(env == null ? Map.of() : env);
        if (!changed.isEmpty()) {
            return new Lookup(null, "warm snapshot " + key.slot() + " is stale: " + String.join(", ", changed) + " changed");
        }
        Path disk = slot.resolve(DISK);
        Path state = slot.resolve(STATE);
        try {
            long bytes = Files.size(state);
            if (bytes != m.path("stateBytes").asLong(-1) || !Files.isRegularFile(disk)) {
                return new Lookup(null, "warm snapshot " + key.slot() + " is incomplete (state " + bytes + " bytes, meta.json says "
                        + m.path("stateBytes").asLong(-1) + ")");
            }
            touch(slot);
            return new Lookup(new Snapshot(slot, disk, state, key, Instant.parse(m.path("created").asText()), bytes,
                    nicsAtSave(m)), null);
        } catch (IOException | RuntimeException e) {
            return new Lookup(null, "warm snapshot " + key.slot() + " is incomplete: " + e);
        }
    }

    /** A fresh owner-only directory to assemble a snapshot in; {@link #publish} or {@link #abandon} it. */
    public Path newBuildDir() throws IOException {
        FileTree.ownerOnlyDirectories(dir);
        byte[] r = new byte[6];
        RANDOM.nextBytes(r);
        return FileTree.newOwnerOnlyDirectory(dir.resolve(".build-" + HexFormat.of().formatHex(r)));
    }

    public static Path diskIn(Path buildDir) {
        return buildDir.resolve(DISK);
    }

    public static Path stateIn(Path buildDir) {
        return buildDir.resolve(STATE);
    }

    /**
     * Seals the files in {@code buildDir} (read-only, owner-only), writes meta.json and moves the
     * directory into the key's slot, replacing what was there.
     */
    public synchronized Snapshot publish(Path buildDir, SnapshotKey key, Duration buildTime, NicCounters.Totals nics)
            throws IOException {
        Path disk = buildDir.resolve(DISK);
        Path state = buildDir.resolve(STATE);
        Files.setPosixFilePermissions(disk, PosixFilePermissions.fromString("r--------"));
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("r--------"));
        Instant created = Instant.now();
        long bytes = Files.size(state);
        ObjectNode m = json.createObjectNode();
        m.put("format", FORMAT);
        m.put("image", key.image());
        m.set("template", json.valueToTree(key.template()));
        m.set("environment", json.valueToTree(key.environment()));
        m.put("created", created.toString());
        m.put("stateBytes", bytes);
        m.put("buildMillis", buildTime.toMillis());
        if (nics != null) {
            m.put("guestRxBytes", nics.rxBytes());
            m.put("guestTxBytes", nics.txBytes());
        }
        Files.write(buildDir.resolve(META), json.writerWithDefaultPrettyPrinter().writeValueAsBytes(m), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE);
        Files.setPosixFilePermissions(buildDir.resolve(META), PosixFilePermissions.fromString("rw-------"));
        Path slot = dir.resolve(key.slot());
        if (Files.exists(slot, LinkOption.NOFOLLOW_LINKS)) {
            Path old = dir.resolve(".old-" + key.slot() + "-" + created.toEpochMilli());
            Files.move(slot, old, StandardCopyOption.ATOMIC_MOVE);
            deleteQuietly(old);
        }
        Files.move(buildDir, slot, StandardCopyOption.ATOMIC_MOVE);
        return new Snapshot(slot, slot.resolve(DISK), slot.resolve(STATE), key, created, bytes, nics);
    }

    /** The saved guest's NIC counters in meta.json; null if it has none (saved before they were). */
    private static NicCounters.Totals nicsAtSave(JsonNode m) {
        JsonNode rx = m.path("guestRxBytes");
        JsonNode tx = m.path("guestTxBytes");
        return rx.canConvertToLong() && tx.canConvertToLong() && rx.asLong() >= 0 && tx.asLong() >= 0
                ? new NicCounters.Totals(rx.asLong(), tx.asLong()) : null;
    }

    /**
     * Removes a snapshot that failed to restore, unless its slot already holds a newer one (a
     * concurrent rebuild may have replaced it while this restore was failing).
     */
    public synchronized void discard(Snapshot s, String why) {
        Lookup now = lookup(s.key());
        if (now.ready() && !Objects.equals(now.snapshot().created(), s.created())) {
            return;
        }
        LOG.warning("discarding warm snapshot " + s.dir() + ": " + why);
        Path old = dir.resolve(".old-" + s.dir().getFileName() + "-" + Instant.now().toEpochMilli());
        try {
            Files.move(s.dir(), old, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            old = s.dir();
        }
        deleteQuietly(old);
    }

    public void abandon(Path buildDir) {
        deleteQuietly(buildDir);
    }

    /** The slot's mtime says when it was last looked up for a restore; {@link #removeLeftovers} reads it. */
    private static void touch(Path slot) {
        try {
            Files.setLastModifiedTime(slot, FileTime.from(Instant.now()));
        } catch (IOException e) {
            // Only the clean-up of unused snapshots depends on it.
        }
    }

    /**
     * Removes leftovers of replaced snapshots and of builds whose engine died: anything named
     * {@code .old-*}, {@code .build-*} older than an hour (a live build finishes well within), and
     * snapshots not restored from for {@link #UNUSED}, which belong to templates that changed.
     */
    public void removeLeftovers() {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                Instant mtime = Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toInstant();
                boolean abandoned = name.startsWith(".build-") && mtime.isBefore(Instant.now().minus(ABANDONED_BUILD));
                boolean unused = !name.startsWith(".") && mtime.isBefore(Instant.now().minus(UNUSED));
                if (name.startsWith(".old-") || abandoned || unused) {
                    if (unused) {
                        LOG.info("removing warm snapshot " + p + ": not restored from since " + mtime);
                    }
                    deleteQuietly(p);
                }
            }
        } catch (IOException e) {
            LOG.warning("cannot clean up " + dir + ": " + e);
        }
    }

    /** Best effort, but said: a snapshot that cannot be removed keeps taking disk space. */
    private static void deleteQuietly(Path d) {
        try {
            FileTree.delete(d);
        } catch (IOException e) {
            LOG.warning("cannot remove " + d + ": " + e);
        }
    }
}
