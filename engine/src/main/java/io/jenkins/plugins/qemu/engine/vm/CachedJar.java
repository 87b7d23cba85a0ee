package io.jenkins.plugins.qemu.engine.vm;

import io.jenkins.plugins.qemu.engine.image.Sha256;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Locale;

/**
 * A jar of the controller that a Jenkins agent fetches over its channel on every connection (the
 * core jar and a few libraries, 20 MB, measured at 10-25 s of a warm clone's connection under
 * TCG), put into the agent's jar cache in the warm snapshot so a clone finds it there. It is
 * named as Jenkins' remoting names the jars in its cache: the SHA-256 of the jar folded to 128
 * bits (the first and third, the second and fourth 64-bit words XOR-ed), as
 * {@code XX/<30 hex digits>.jar}; remoting checks a cached jar's checksum before it uses it, so
 * a wrong or stale file is fetched again, never run.
 */
public record CachedJar(Path file, String cachePath) {
    public CachedJar {
        if (cachePath == null || !cachePath.matches("[0-9A-F]{2}/[0-9A-F]{30}\\.jar")) {
            throw new IllegalArgumentException("not a remoting jar cache path: " + cachePath);
        }
    }

    /** The jar at {@code file}, hashed now. */
    public static CachedJar of(Path file) throws IOException {
        return new CachedJar(file, cachePath(HexFormat.of().parseHex(Sha256.of(file))));
    }

    /** Remoting's cache path for a jar with this SHA-256. */
    static String cachePath(byte[] sha256) {
        ByteBuffer b = ByteBuffer.wrap(sha256);
        long sum1 = b.getLong(0) ^ b.getLong(16);
        long sum2 = b.getLong(8) ^ b.getLong(24);
        return String.format(Locale.ROOT, "%02X/%014X%016X.jar", sum1 >>> 56, sum1 & 0x00FFFFFFFFFFFFFFL, sum2);
    }
}
