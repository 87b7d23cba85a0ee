package io.jenkins.plugins.qemu.engine.image;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/** SHA-256 as the catalog uses it: lower-case hex strings, checked on input, computed over files. */
public final class Sha256 {
    private Sha256() {}

    /** Returns {@code hex} in lower case, or throws naming {@code field} if it is not 64 hex digits. */
    public static String requireHex(String field, String hex) {
        if (hex == null || !hex.matches("[0-9a-fA-F]{64}")) {
            throw new InvalidInputException(field, hex, "is not a SHA-256 checksum (64 hexadecimal digits)");
        }
        return hex.toLowerCase(Locale.ROOT);
    }

    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    public static String hex(MessageDigest digest) {
        return HexFormat.of().formatHex(digest.digest());
    }

    public static String of(Path file) throws IOException {
        MessageDigest md = newDigest();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return hex(md);
    }
}
