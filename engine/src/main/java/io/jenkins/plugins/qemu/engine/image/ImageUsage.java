package io.jenkins.plugins.qemu.engine.image;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Who still needs an image's files, so they are not removed or replaced underneath a VM. Two
 * views, because either alone misses cases: every qcow2 directly inside a VM folder of the
 * engine's state directories whose header names the file as its backing file (a VM that has its
 * overlay but whose QEMU is not running yet, or one left by a crash), and every process whose
 * open file descriptors point at the file (a running QEMU of any engine, even one with another
 * state directory; only processes this user may inspect are seen).
 */
public final class ImageUsage {
    private static final byte[] QCOW2 = {'Q', 'F', 'I', (byte) 0xfb};

    private final List<Path> stateDirs;
    private final Path proc;

    public ImageUsage(Collection<Path> stateDirs) {
        this(stateDirs, Path.of("/proc"));
    }

    ImageUsage(Collection<Path> stateDirs, Path proc) {
        this.stateDirs = List.copyOf(stateDirs);
        this.proc = proc;
    }

    /** Human-readable descriptions of what uses any of {@code files}; empty when nothing does. */
    public List<String> usersOf(Collection<Path> files) throws IOException {
        Set<Path> targets = new HashSet<>();
        for (Path f : files) {
            targets.add(f.toAbsolutePath().normalize());
            if (Files.exists(f)) {
                targets.add(f.toRealPath());
            }
        }
        List<String> users = new ArrayList<>();
        for (Path state : stateDirs) {
            users.addAll(overlaysBackedBy(state, targets));
        }
        users.addAll(processesHolding(targets));
        return users;
    }

    private static List<String> overlaysBackedBy(Path state, Set<Path> targets) throws IOException {
        List<String> found = new ArrayList<>();
        if (!Files.isDirectory(state)) {
            return found;
        }
        try (DirectoryStream<Path> vms = Files.newDirectoryStream(state, Files::isDirectory)) {
            for (Path vm : vms) {
                try (DirectoryStream<Path> files = Files.newDirectoryStream(vm, "*.qcow2")) {
                    for (Path overlay : files) {
                        String backing = backingFile(overlay);
                        if (backing != null && targets.contains(vm.resolve(backing).toAbsolutePath().normalize())) {
                            found.add("the VM folder " + vm + " (" + overlay.getFileName() + " is backed by it)");
                        }
                    }
                } catch (IOException vanished) {
                    // A VM removed its folder while we looked: it no longer uses anything.
                }
            }
        }
        return found;
    }

    /** The backing file name in a qcow2 header, or null for none or for a file that is no qcow2. */
    static String backingFile(Path qcow2) throws IOException {
        byte[] header = new byte[20];
        try (InputStream in = Files.newInputStream(qcow2)) {
            if (in.readNBytes(header, 0, header.length) < header.length) {
                return null;
            }
            ByteBuffer b = ByteBuffer.wrap(header);
            for (byte m : QCOW2) {
                if (b.get() != m) {
                    return null;
                }
            }
            b.getInt(); // version
            long offset = b.getLong();
            int size = b.getInt();
            if (offset <= 0 || size <= 0 || size > 1023 || offset < header.length) {
                return null;
            }
            in.skipNBytes(offset - header.length);
            return new String(in.readNBytes(size), StandardCharsets.UTF_8);
        }
    }

    private List<String> processesHolding(Set<Path> targets) throws IOException {
        List<String> found = new ArrayList<>();
        if (!Files.isDirectory(proc)) {
            return found;
        }
        try (Stream<Path> pids = Files.list(proc)) {
            for (Path pid : (Iterable<Path>) pids::iterator) {
                String name = pid.getFileName().toString();
                if (name.chars().allMatch(Character::isDigit) && holds(pid.resolve("fd"), targets)) {
                    found.add("process " + name + " (" + command(pid) + ")");
                }
            }
        }
        return found;
    }

    private static boolean holds(Path fdDir, Set<Path> targets) {
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(fdDir)) {
            for (Path fd : fds) {
                try {
                    if (targets.contains(Files.readSymbolicLink(fd))) {
                        return true;
                    }
                } catch (IOException closed) {
                    // The descriptor was closed while we looked.
                }
            }
        } catch (IOException notOurs) {
            // Another user's process, or one that ended: not visible, not counted.
        }
        return false;
    }

    private static String command(Path pid) {
        try {
            Path exe = Files.readSymbolicLink(pid.resolve("exe"));
            return exe.getFileName().toString();
        } catch (IOException e) {
            return Files.exists(pid, LinkOption.NOFOLLOW_LINKS) ? "?" : "ended";
        }
    }
}
