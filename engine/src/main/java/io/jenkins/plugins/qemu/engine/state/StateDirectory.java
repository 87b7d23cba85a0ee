package io.jenkins.plugins.qemu.engine.state;

import io.jenkins.plugins.qemu.engine.config.FileTree;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Makes sure a state directory is dedicated to this engine before the engine makes it owner-only
 * and its reaper sweeps it: a directory that does not exist or is empty is taken and marked; a
 * marked one is ours; an unmarked one is taken only if everything in it is what an engine writes
 * (VM folders holding only VM files, kept consoles, warm snapshots, accelerator probes), which is
 * how directories of earlier versions look. Anything else (a home directory, JENKINS_HOME, a
 * shared /tmp) is refused with the name of the first foreign entry, and nothing in it is touched.
 */
public final class StateDirectory {
    /** The marker file that says "this directory belongs to a QEMU Agents engine". */
    public static final String MARKER = ".qemu-agents-state";

    private StateDirectory() {}

    /** Claims {@code dir} as described above and returns it, owner-only; throws naming what is foreign (the caller names the directory). */
    public static Path claim(Path dir) throws IOException {
        if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) && !Files.exists(dir.resolve(MARKER), LinkOption.NOFOLLOW_LINKS)) {
            String foreign = firstForeignEntry(dir);
            if (foreign != null) {
                throw new IOException("it holds '" + foreign + "', which no engine wrote; a state directory must be "
                        + "dedicated to QEMU Agents (give an empty or new directory)");
            }
        } else if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("it exists and is not a directory");
        }
        FileTree.ownerOnlyDirectories(dir);
        Path marker = dir.resolve(MARKER);
        if (!Files.exists(marker, LinkOption.NOFOLLOW_LINKS)) {
            Files.writeString(marker, "This directory holds the VMs and warm snapshots of a QEMU Agents engine.\n");
        }
        return dir;
    }

    /** The first entry an engine would not have written, or null when there is none. */
    static String firstForeignEntry(Path dir) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                String name = p.getFileName().toString();
                boolean folder = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
                if (folder && VmDir.isNonVmFolder(name)) {
                    continue;
                }
                if (!folder || !VmDir.foreignFiles(p).isEmpty()) {
                    return name;
                }
            }
        }
        return null;
    }
}
