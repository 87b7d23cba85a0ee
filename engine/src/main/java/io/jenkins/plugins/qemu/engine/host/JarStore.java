package io.jenkins.plugins.qemu.engine.host;

import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.image.Sha256;
import io.jenkins.plugins.qemu.engine.state.VmDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The jars a host was sent by its controller (the remoting agent's jar and the jars its jar cache
 * is seeded with), kept on the host under its state directory by SHA-256, so each is sent once per
 * host rather than once per VM. A jar is stored only if its bytes hash to the name it is stored
 * under, written to a temporary file first and moved into place, owner-only like the rest.
 */
public final class JarStore {
    private final Path dir;

    public JarStore(Path stateDir) {
        this.dir = stateDir.resolve(VmDir.JARS);
    }

    /** Where the jar with this SHA-256 is (or would be) kept. */
    public Path file(String sha256) {
        return dir.resolve(Sha256.requireHex("sha256", sha256) + ".jar");
    }

    /** Those of {@code sha256s} the store does not have. */
    public List<String> missing(List<String> sha256s) {
        List<String> out = new ArrayList<>();
        for (String sha : sha256s) {
            if (!Files.isRegularFile(file(sha)) && !out.contains(sha)) {
                out.add(sha);
            }
        }
        return out;
    }

    /** Stores {@code bytes} as the jar {@code sha256}; false if it was there already. */
    public synchronized boolean store(String sha256, byte[] bytes) throws IOException {
        Path target = file(sha256);
        MessageDigest d = Sha256.newDigest();
        d.update(bytes);
        String actual = Sha256.hex(d);
        if (!actual.equals(sha256)) {
            throw new IOException("the jar sent as " + sha256 + " hashes to " + actual + "; not stored");
        }
        if (Files.isRegularFile(target)) {
            return false;
        }
        FileTree.ownerOnlyDirectories(dir);
        Path part = Files.createTempFile(dir, ".part-", ".jar");
        try {
            Files.write(part, bytes, StandardOpenOption.TRUNCATE_EXISTING);
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(part);
        }
        return true;
    }

    /** The SHA-256 names of the jars kept now. */
    public Set<String> kept() throws IOException {
        if (!Files.isDirectory(dir)) {
            return Set.of();
        }
        try (var files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.matches("[0-9a-f]{64}\\.jar"))
                    .map(n -> n.substring(0, 64)).collect(java.util.stream.Collectors.toSet());
        }
    }
}
