package io.jenkins.plugins.qemu.engine.config;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

/** Owner-only directories, recursive deletion and the end of a growing log: the file-system chores of VM state. */
public final class FileTree {
    private FileTree() {}

    /** The end of a file: its last bytes as UTF-8 text, and whether anything before them was left out. */
    public record End(String text, boolean cut) {}

    /**
     * The last {@code maxBytes} of {@code file} (a console or stderr log that QEMU may still be
     * writing: its length is read once, so a line written meanwhile is simply not included).
     */
    public static End lastBytes(Path file, int maxBytes) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long length = f.length();
            long from = Math.max(0, length - maxBytes);
            byte[] bytes = new byte[(int) (length - from)];
            f.seek(from);
            f.readFully(bytes);
            return new End(new String(bytes, StandardCharsets.UTF_8), from > 0);
        }
    }

    /** Creates {@code dir} (and missing parents) so that only its owner can enter it. */
    public static Path ownerOnlyDirectories(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        return dir;
    }

    /** Creates a fresh owner-only directory; fails if it exists, so two VMs never share one. */
    public static Path newOwnerOnlyDirectory(Path dir) throws IOException {
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        // createDirectory applies the umask; set the mode explicitly to be sure.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        return dir;
    }

    public static void delete(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    public static void deleteQuietly(Path dir) {
        try {
            delete(dir);
        } catch (IOException ignored) {
            // Best effort: used on paths where a failure has already been reported.
        }
    }
}
