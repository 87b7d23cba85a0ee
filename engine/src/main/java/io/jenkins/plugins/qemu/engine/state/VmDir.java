package io.jenkins.plugins.qemu.engine.state;

import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.config.UnixSocketPath;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * One VM's owner-only folder below the state directory, and the only place that names its files.
 * The VM creates it, the reaper recognises it by these names, and both delete it the same way
 * (record last). It also applies the Unix socket-path limit to the VM's sockets, because the
 * folder's path and the socket names together decide whether QEMU can bind them.
 */
public final class VmDir {
    public static final String RECORD = "state.json";
    static final String RECORD_TEMP = ".state.json.tmp";
    public static final String OVERLAY = "overlay.qcow2";
    public static final String SEED = "seed.iso";
    /** The fw_cfg identity files (a folder). */
    public static final String IDENTITY = "identity";
    public static final String QMP_SOCKET = "qmp.sock";
    public static final String IDENTITY_SOCKET = "ident.sock";
    public static final String MIGRATE_SOCKET = "migrate.sock";
    public static final String CONSOLE = "console.log";
    public static final String STDERR = "qemu.stderr";
    /** The network helper's (passt's) socket and log. */
    public static final String NET_SOCKET = "net.sock";
    public static final String NET_STDERR = "passt.stderr";
    /** The owner's last usage sample, for {@code ps} in another process, and its temporary name. */
    public static final String USAGE = "usage.json";
    public static final String USAGE_TEMP = ".usage.json.tmp";
    /** Every name a VM folder may hold; a folder with anything else is not ours to judge. */
    public static final Set<String> FILES = Set.of(RECORD, RECORD_TEMP, OVERLAY, SEED, IDENTITY, QMP_SOCKET, IDENTITY_SOCKET,
            MIGRATE_SOCKET, CONSOLE, STDERR, NET_SOCKET, NET_STDERR, USAGE, USAGE_TEMP);
    /** Folders of the state directory that are never a VM: kept consoles and warm snapshots. */
    public static final String CONSOLES = "consoles";
    public static final String SNAPSHOTS = "snapshots";
    /** Agent jars a QEMU host was sent by its controller, by SHA-256 (see {@code host.JarStore}). */
    public static final String JARS = "jars";
    /** Each owner's provisioning counters, for {@code qemu-agents metrics} (see {@code usage.MetricsFile}). */
    public static final String METRICS = "metrics";
    /** The length of {@code VmSpec.newVmId()}, the id the state directory's check assumes. */
    private static final int GENERATED_ID_LENGTH = 13;
    /** The longest socket name decides whether a folder's sockets fit. */
    private static final String LONGEST_SOCKET = MIGRATE_SOCKET;

    private final Path stateDir;
    private final String vmId;
    private final Path dir;
    /** Only a folder this object created is deleted by it: a clashing VM id must not remove another VM's files. */
    private volatile boolean created;

    public VmDir(Path stateDir, String vmId) {
        this.stateDir = stateDir;
        this.vmId = vmId;
        this.dir = stateDir.resolve(vmId);
    }

    public Path path() { return dir; }
    public Path overlay() { return dir.resolve(OVERLAY); }
    public Path seed() { return dir.resolve(SEED); }
    public Path identity() { return dir.resolve(IDENTITY); }
    public Path qmpSocket() { return dir.resolve(QMP_SOCKET); }
    public Path identitySocket() { return dir.resolve(IDENTITY_SOCKET); }
    public Path migrateSocket() { return dir.resolve(MIGRATE_SOCKET); }
    public Path console() { return dir.resolve(CONSOLE); }
    public Path stderr() { return dir.resolve(STDERR); }
    public Path netSocket() { return dir.resolve(NET_SOCKET); }
    public Path netStderr() { return dir.resolve(NET_STDERR); }
    public Path usage() { return dir.resolve(USAGE); }
    public Path usageTemp() { return dir.resolve(USAGE_TEMP); }

    /**
     * Refuses a state directory whose VM sockets (for a generated VM id) would not fit, so the
     * configuration fails rather than the first boot with an obscure bind error.
     */
    public static void checkStateDir(Path stateDir) {
        int longest = stateDir.toString().length() + 1 + GENERATED_ID_LENGTH + 1 + LONGEST_SOCKET.length();
        if (longest > UnixSocketPath.MAX_BYTES) {
            throw new InvalidInputException("stateDir", stateDir,
                    "is too long: QEMU's sockets below it would be " + longest + " bytes, over the Unix limit of "
                            + UnixSocketPath.MAX_BYTES + "; choose a shorter directory (e.g. /var/lib/qemu-agents)");
        }
    }

    /** The per-VM socket paths grow with the VM id; QEMU would fail on bind with an obscure error. */
    public void checkSockets() {
        Path socket = dir.resolve(LONGEST_SOCKET);
        int bytes = UnixSocketPath.bytes(socket);
        if (bytes > UnixSocketPath.MAX_BYTES) {
            throw new InvalidInputException("vmId", vmId, "makes the socket path " + socket + " " + bytes
                    + " bytes long, over the Unix limit of " + UnixSocketPath.MAX_BYTES + "; use a shorter VM id or state directory");
        }
    }

    /** Creates the folder (and an owner-only state directory); an existing folder means the id is taken. */
    public void create() throws IOException {
        try {
            FileTree.ownerOnlyDirectories(stateDir);
        } catch (IOException e) {
            throw new IOException("the state directory " + stateDir + " is not usable: " + why(e), e);
        }
        try {
            FileTree.newOwnerOnlyDirectory(dir);
        } catch (FileAlreadyExistsException e) {
            throw new IOException("VM id " + vmId + " is already in use: " + dir + " exists", e);
        } catch (IOException e) {
            throw new IOException("the state directory " + stateDir + " is not writable: cannot create " + dir + ": " + why(e), e);
        }
        created = true;
    }

    /**
     * Takes over the existing folder of a VM whose ownership was proven (an adopted VM), so that
     * {@link #delete()} removes it when the VM goes, as if this object had created it.
     */
    public void takeOver() throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("VM folder " + dir + " is gone");
        }
        created = true;
    }

    /**
     * QEMU creates its listening sockets with the JVM's umask (0755 where it is 022), and its
     * options cannot say otherwise; like every other file of a VM they are made owner-only as soon
     * as they exist. The identity socket, when there is one, is made before the QMP socket (it comes
     * first on QEMU's command line), so both exist once the QMP socket does.
     */
    public void restrictSockets() throws IOException {
        for (String f : List.of(QMP_SOCKET, IDENTITY_SOCKET)) {
            Path socket = dir.resolve(f);
            if (Files.exists(socket, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.setPosixFilePermissions(socket, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            }
        }
    }

    /** After a failed restore: the files QEMU made go, so the cold boot starts clean. */
    public void removeQemuFiles() throws IOException {
        for (String f : List.of(QMP_SOCKET, IDENTITY_SOCKET, STDERR, CONSOLE, NET_SOCKET, NET_STDERR)) {
            Files.deleteIfExists(dir.resolve(f));
        }
    }

    /** Moves the console out of the folder into {@code <stateDir>/consoles}; returns where it went, or null if there was none. */
    public Path keepConsole() throws IOException {
        Path console = console();
        if (!Files.exists(console)) {
            return null;
        }
        Path kept = stateDir.resolve(CONSOLES);
        FileTree.ownerOnlyDirectories(kept);
        Path target = kept.resolve(vmId + ".console.log");
        Files.move(console, target, StandardCopyOption.REPLACE_EXISTING);
        return target;
    }

    /**
     * Deletes the folder if this object created it. The boot thread may still be creating a file
     * here as we delete, so it tries a few times; returns the last failure, or null.
     */
    public IOException delete() {
        if (!created) {
            return null;
        }
        IOException last = null;
        for (int i = 0; i < 5; i++) {
            try {
                delete(dir);
                return null;
            } catch (IOException e) {
                last = e;
            }
        }
        return last;
    }

    /** Whether a folder of this name below the state directory is never a VM (kept consoles, snapshots, a host's jars, metrics, accelerator probes). */
    public static boolean isNonVmFolder(String name) {
        return name.equals(CONSOLES) || name.equals(SNAPSHOTS) || name.equals(JARS) || name.equals(METRICS)
                || name.startsWith("accel-probe");
    }

    /** The names in {@code dir} that no VM folder holds; empty for a folder of ours. */
    public static List<String> foreignFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !FILES.contains(n)).toList();
        }
    }

    /**
     * Deletes a VM's folder with its record last, so that an engine killed half-way leaves a
     * record the next reaper still finds, never files without a record.
     */
    public static void delete(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Path record = dir.resolve(RECORD);
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                if (!p.equals(record) && !p.equals(dir)) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (NoSuchFileException gone) {
            // Someone else (the VM's own destroy, another reaper) removed it as we walked.
        }
        Files.deleteIfExists(record);
        Files.deleteIfExists(dir);
    }

    /** NIO's file exceptions often carry only the path; say what went wrong. */
    public static String why(IOException e) {
        if (e instanceof FileSystemException f) {
            String reason = f.getReason() != null ? f.getReason() : e.getClass().getSimpleName().replace("Exception", "");
            return reason + (f.getFile() != null ? " (" + f.getFile() + ")" : "");
        }
        return String.valueOf(e.getMessage());
    }

    @Override
    public String toString() {
        return dir.toString();
    }
}
