package io.jenkins.plugins.qemu.engine.image;

import java.net.URI;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A published checksum list, as distributions ship them next to their images: GNU style
 * ({@code HEX  name} or {@code HEX *name}, Debian and Ubuntu) or BSD style
 * ({@code SHA256 (name) = HEX}, Fedora's CHECKSUM). A file is looked up by the last path segment
 * of its URL. Lines of a PGP clear-signed list are read as they are; the signature is not checked.
 */
public final class Sha256Sums {
    private static final Pattern GNU = Pattern.compile("([0-9a-fA-F]{64}) [ *]\\.?/?(.+)");
    private static final Pattern BSD = Pattern.compile("SHA256 \\((.+)\\) = ([0-9a-fA-F]{64})");

    private final String text;

    public Sha256Sums(String text) {
        this.text = text;
    }

    /** The checksum listed for the file {@code url} names, if there is exactly one line for it. */
    public Optional<String> lookup(URI url) {
        String name = fileName(url);
        String found = null;
        for (String line : (Iterable<String>) text.lines()::iterator) {
            String l = line.strip();
            String file;
            String hex;
            Matcher g = GNU.matcher(l);
            Matcher b = BSD.matcher(l);
            if (g.matches()) {
                hex = g.group(1);
                file = g.group(2);
            } else if (b.matches()) {
                file = b.group(1);
                hex = b.group(2);
            } else {
                continue;
            }
            if (file.equals(name)) {
                if (found != null && !found.equalsIgnoreCase(hex)) {
                    return Optional.empty(); // contradictory lines: trust neither
                }
                found = hex.toLowerCase(Locale.ROOT);
            }
        }
        return Optional.ofNullable(found);
    }

    static String fileName(URI url) {
        String path = url.getPath() == null ? "" : url.getPath();
        return path.substring(path.lastIndexOf('/') + 1);
    }
}
