package io.jenkins.plugins.qemu.engine.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one place where externally supplied values are parsed and checked: image names, sizes,
 * CPU counts, host and user names, durations and kernel command lines. Specs call these from
 * their builders so that a value is judged the same way whether it came from the CLI, the
 * Jenkins UI or configuration-as-code.
 */
public final class Validation {
    /** Lower-case DNS-ish names: they become directory names, so no separators or dots at the start. */
    private static final Pattern IMAGE_NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    private static final Pattern HOST_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    /** What useradd and cloud-init both accept without quoting surprises. */
    private static final Pattern USER_NAME = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");
    private static final Pattern SIZE = Pattern.compile("([0-9]{1,12})\\s*([KMGT]?)(i?B)?", Pattern.CASE_INSENSITIVE);
    private static final Pattern DURATION = Pattern.compile("([0-9]{1,9})\\s*(ms|s|m|h)?");

    public static final int MAX_CPUS = 64;
    public static final long MIN_MEMORY_MIB = 128;
    public static final long MAX_MEMORY_MIB = 1024L * 1024; // 1 TiB
    /** Below this no Debian-like guest fits; the image's own size is the real floor, checked at boot. */
    public static final long MIN_DISK_MIB = 1024;
    public static final long MAX_DISK_MIB = 16L * 1024 * 1024; // 16 TiB, a qcow2 limit with the default cluster size

    private Validation() {}

    public static String imageName(String field, String name) {
        if (name == null || name.isEmpty()) {
            throw new InvalidInputException(field, name, "is empty; give a catalog image name such as 'debian-12'");
        }
        if (!IMAGE_NAME.matcher(name).matches() || name.contains("..")) {
            throw new InvalidInputException(field, name,
                    "is not a valid image name: use 1-63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit (no paths)");
        }
        return name;
    }

    public static int cpus(String field, int cpus) {
        if (cpus < 1 || cpus > MAX_CPUS) {
            throw new InvalidInputException(field, cpus, "is out of range: use 1 to " + MAX_CPUS);
        }
        return cpus;
    }

    public static int cpus(String field, String text) {
        try {
            return cpus(field, Integer.parseInt(text.trim()));
        } catch (NumberFormatException | NullPointerException e) {
            throw new InvalidInputException(field, text, "is not a whole number of CPUs (1 to " + MAX_CPUS + ")");
        }
    }

    /** Parses "2048", "512M", "2G", "2GiB" into MiB; a bare number means MiB as QEMU's -m does. */
    public static long memoryMiB(String field, String text) {
        if (text == null) {
            throw new InvalidInputException(field, null, "is missing; give a size such as 1024M or 2G");
        }
        return memoryMiB(field, text, sizeMiB(field, text, "1024M, 2G"));
    }

    public static long memoryMiB(String field, long mib) {
        return memoryMiB(field, mib + "M", mib);
    }

    private static long memoryMiB(String field, String text, long mib) {
        if (mib < MIN_MEMORY_MIB || mib > MAX_MEMORY_MIB) {
            throw new InvalidInputException(field, text, "is out of range: use " + MIN_MEMORY_MIB + "M to " + (MAX_MEMORY_MIB / 1024 / 1024) + "T");
        }
        return mib;
    }

    /**
     * A VM's disk size, "20G", "20GiB", "20480M" or "20480" (MiB, as for memory), in MiB. Whether
     * it is at least the image's own size can only be judged when the image is resolved at boot.
     */
    public static long diskSizeMiB(String field, String text) {
        if (text == null || text.isBlank()) {
            throw new InvalidInputException(field, text, "is missing; give a size such as 20G");
        }
        return diskSizeMiB(field, text, sizeMiB(field, text, "20G, 20480M"));
    }

    public static long diskSizeMiB(String field, long mib) {
        return diskSizeMiB(field, sizeText(mib), mib);
    }

    private static long diskSizeMiB(String field, String text, long mib) {
        if (mib < MIN_DISK_MIB || mib > MAX_DISK_MIB) {
            throw new InvalidInputException(field, text, "is out of range: use " + sizeText(MIN_DISK_MIB) + " to " + sizeText(MAX_DISK_MIB));
        }
        return mib;
    }

    /** A size in MiB as a person would type it: "16T", "20G", "1500M". */
    public static String sizeText(long mib) {
        if (mib != 0 && mib % (1024L * 1024) == 0) {
            return mib / (1024L * 1024) + "T";
        }
        if (mib != 0 && mib % 1024 == 0) {
            return mib / 1024 + "G";
        }
        return mib + "M";
    }

    /**
     * A size such as "20G", "512M" or "2GiB" (a bare number is MiB) within {@code minMiB} to
     * {@code maxMiB}: the one size parser of the engine, for VM sizes and for a cloud's budgets.
     */
    public static long sizeMiB(String field, String text, long minMiB, long maxMiB, String examples) {
        long mib = sizeMiB(field, text, examples);
        if (mib < minMiB || mib > maxMiB) {
            throw new InvalidInputException(field, text, "is out of range: use " + sizeText(minMiB) + " to " + sizeText(maxMiB));
        }
        return mib;
    }

    /** Number and unit into MiB, without a range; {@code examples} end the message for text that is no size. */
    private static long sizeMiB(String field, String text, String examples) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new InvalidInputException(field, text, "is not a size: use a whole number with an optional unit K, M, G or T (e.g. " + examples + ")");
        }
        long n = Long.parseLong(m.group(1));
        switch (m.group(2).toUpperCase(Locale.ROOT)) {
            case "K": return n / 1024;
            case "G": return multiply(field, text, n, 1024);
            case "T": return multiply(field, text, n, 1024L * 1024);
            default: return n;
        }
    }

    private static long multiply(String field, String text, long n, long factor) {
        try {
            return Math.multiplyExact(n, factor);
        } catch (ArithmeticException e) {
            throw new InvalidInputException(field, text, "is far too large");
        }
    }

    public static String hostname(String field, String name) {
        if (name == null || name.isEmpty() || name.length() > 63 || !HOST_LABEL.matcher(name).matches()) {
            throw new InvalidInputException(field, name,
                    "is not a valid host name: use 1-63 lower-case letters, digits and '-', not starting or ending with '-'");
        }
        return name;
    }

    public static String userName(String field, String name) {
        if (name == null || !USER_NAME.matcher(name).matches()) {
            throw new InvalidInputException(field, name,
                    "is not a valid user name: use up to 32 lower-case letters, digits, '_' or '-', starting with a letter or '_'");
        }
        if (name.equals("root")) {
            throw new InvalidInputException(field, name, "is not allowed: agents log in as an unprivileged user");
        }
        return name;
    }

    public static Duration positive(String field, Duration d) {
        if (d == null || d.isZero() || d.isNegative()) {
            throw new InvalidInputException(field, d, "must be a positive duration");
        }
        return d;
    }

    /** Parses "90", "90s", "500ms", "5m", "1h" (a bare number means seconds). */
    public static Duration duration(String field, String text) {
        Matcher m = text == null ? null : DURATION.matcher(text.trim());
        if (m == null || !m.matches()) {
            throw new InvalidInputException(field, text, "is not a duration: use e.g. 90s, 5m, 500ms or a number of seconds");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        Duration d;
        switch (unit) {
            case "ms": d = Duration.ofMillis(n); break;
            case "m": d = Duration.ofMinutes(n); break;
            case "h": d = Duration.ofHours(n); break;
            default: d = Duration.ofSeconds(n);
        }
        if (d.isZero()) {
            // Judge the text the user typed, so the message quotes it rather than "PT0S".
            throw new InvalidInputException(field, text, "must be a positive duration");
        }
        return d;
    }

    /** A kernel command line goes into one argv element; control characters would corrupt it. */
    public static String kernelAppend(String field, String append) {
        if (append == null) {
            return null;
        }
        return singleLine(field, append, 2048);
    }

    /** Machine types are passed to -machine; restrict to what QEMU's own names look like. */
    public static String machine(String field, String machine) {
        if (machine == null || !machine.matches("[a-z0-9][a-z0-9._-]{0,40}")) {
            throw new InvalidInputException(field, machine, "is not a QEMU machine type such as 'pc' or 'q35'");
        }
        return machine;
    }

    /** A directory named in text (CLI, forms): no control characters, a valid path, made absolute. */
    public static Path directory(String field, String text) {
        if (text == null || text.isBlank()) {
            throw new InvalidInputException(field, text, "is empty; give a directory");
        }
        singleLine(field, text, 4096);
        try {
            return Path.of(text).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw new InvalidInputException(field, text, "is not a valid path: " + e.getReason());
        }
    }

    /** Bounded text without control characters: what can safely become one argv element. */
    private static String singleLine(String field, String text, int maxLength) {
        if (text.length() > maxLength) {
            throw new InvalidInputException(field, text, "is longer than " + maxLength + " characters");
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw new InvalidInputException(field, text, "contains a control character (newline, tab or NUL) at position " + i);
            }
        }
        return text;
    }

    public static <T> T required(String field, T value) {
        if (value == null) {
            throw new InvalidInputException(field, null, "is required");
        }
        return value;
    }
}
