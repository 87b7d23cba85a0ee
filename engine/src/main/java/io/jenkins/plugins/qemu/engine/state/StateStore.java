package io.jenkins.plugins.qemu.engine.state;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The VM records below a state directory: {@code <stateDir>/<vmId>/state.json}, owner-only
 * (0600 in a 0700 folder). Writes go to a temporary file that is renamed over the record, so a
 * reader, or an engine killed mid-write, only ever sees a complete old or a complete new record.
 */
public final class StateStore {
    /** The record's file name; see {@link VmDir} for the rest of a VM folder. */
    public static final String RECORD = VmDir.RECORD;
    private static final String TEMP = VmDir.RECORD_TEMP;

    private final Path stateDir;
    private final ObjectMapper json = new ObjectMapper();

    public StateStore(Path stateDir) {
        this.stateDir = stateDir;
    }

    public Path stateDir() {
        return stateDir;
    }

    public Path vmDir(String vmId) {
        return stateDir.resolve(vmId);
    }

    public void write(VmRecord record) throws IOException {
        Path dir = vmDir(record.vmId());
        Path tmp = dir.resolve(TEMP);
        Files.deleteIfExists(tmp);
        byte[] bytes = json.writerWithDefaultPrettyPrinter().writeValueAsBytes(record);
        try (SeekableByteChannel ch = Files.newByteChannel(tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        }
        // The umask can only remove bits, but be explicit: the record must never be group-readable.
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        Files.move(tmp, dir.resolve(RECORD), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The record in {@code vmDir}; empty if there is none, an exception if it cannot be parsed. */
    public Optional<VmRecord> read(Path vmDir) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(vmDir.resolve(RECORD));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        try {
            VmRecord r = json.readValue(bytes, VmRecord.class);
            if (r.vmId() == null || r.ownerId() == null || r.bootId() == null || r.createdAt() == null) {
                throw new IOException("incomplete VM record " + vmDir.resolve(RECORD));
            }
            return Optional.of(r);
        } catch (JsonProcessingException e) {
            throw new IOException("unreadable VM record " + vmDir.resolve(RECORD) + ": " + e.getOriginalMessage(), e);
        }
    }

    /** Every folder directly below the state directory that may belong to a VM, sorted by name. */
    public List<Path> vmDirs() throws IOException {
        List<Path> dirs = new ArrayList<>();
        if (!Files.isDirectory(stateDir)) {
            return dirs;
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(stateDir)) {
            for (Path p : s) {
                String name = p.getFileName().toString();
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) && !VmDir.isNonVmFolder(name)) {
                    dirs.add(p);
                }
            }
        }
        dirs.sort(Comparator.naturalOrder());
        return dirs;
    }
}
