package io.jenkins.plugins.qemu.engine.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

/** Owner-only directories and recursive deletion, the two file-system chores of VM state. */
public final class FileTree {
    private FileTree() {}

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
