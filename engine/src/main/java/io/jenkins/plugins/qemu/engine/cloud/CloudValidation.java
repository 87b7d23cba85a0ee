package io.jenkins.plugins.qemu.engine.cloud;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.config.Validation;
import java.util.StringJoiner;
import java.util.regex.Pattern;

/**
 * Checks for the values a Jenkins cloud and its templates are configured with that the VM spec
 * itself does not know about: labels, the agent's work directory, executors, retention, the
 * cloud-wide cap and host budget. Each method names the field it judges, so the plugin can show
 * the message next to the form field of the same name and configuration-as-code gets the same text.
 */
public final class CloudValidation {
    /** Characters Jenkins refuses in names, plus those that would force quoting in a label expression. */
    private static final String UNSAFE_IN_NAMES = "?*/\\%!@#$^&|<>[]:;";
    private static final String UNSAFE_IN_LABELS = UNSAFE_IN_NAMES + "()\"'=,";
    /** A conservative POSIX path: it ends up in a remote shell command line. */
    private static final Pattern REMOTE_PATH = Pattern.compile("(/[A-Za-z0-9._+@-]+)+/?");

    public static final int MAX_EXECUTORS = 64;
    public static final int MAX_IDLE_MINUTES = 7 * 24 * 60;
    /** A kept VM holds its share of the caps; a day is enough to look into a failure. */
    public static final int MAX_KEEP_FAILED_MINUTES = 24 * 60;
    public static final int MAX_INSTANCE_CAP = 1000;
    public static final int MAX_HOST_CPUS = 4096;
    public static final long MIN_DISK_MIB = Validation.MIN_DISK_MIB;
    public static final long MAX_DISK_MIB = Validation.MAX_DISK_MIB;
    public static final long MAX_HOST_MEMORY_MIB = 64L * 1024 * 1024;

    private CloudValidation() {}

    /**
     * Whitespace-separated label atoms, returned normalised to single spaces. Empty means the
     * template serves jobs without a label. Atoms are restricted to what needs no quoting in a
     * label expression, so {@code agent { label 'x' }} always matches what was typed here.
     */
    public static String labels(String field, String text) {
        if (text == null || text.isBlank()) {
            return "";
        }
        StringJoiner out = new StringJoiner(" ");
        for (String atom : text.trim().split("\\s+")) {
            if (atom.equals(".") || atom.equals("..") || atom.endsWith(".")) {
                throw new InvalidInputException(field, atom, "is not a usable label: it must not be '.' or '..' or end with '.'");
            }
            for (int i = 0; i < atom.length(); i++) {
                char c = atom.charAt(i);
                if (Character.isISOControl(c) || UNSAFE_IN_LABELS.indexOf(c) >= 0) {
                    throw new InvalidInputException(field, atom, "contains '" + visible(c)
                            + "', which label expressions would need quoted; use letters, digits, '.', '_', '-' or '+'");
                }
            }
            out.add(atom);
        }
        return out.toString();
    }

    /** The agent's remote root: an absolute path that goes into a shell command, so no spaces or quotes. */
    public static String remoteFs(String field, String path) {
        if (path == null || path.isBlank()) {
            throw new InvalidInputException(field, path, "is missing; give an absolute directory such as /home/jenkins/agent");
        }
        String p = path.trim();
        if (!REMOTE_PATH.matcher(p).matches() || p.contains("/../") || p.endsWith("/..") || p.contains("/./")) {
            throw new InvalidInputException(field, path,
                    "is not an absolute directory made of letters, digits, '.', '_', '+', '@' and '-' (no spaces, no '..')");
        }
        while (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p;
    }

    public static int executors(String field, int n) {
        if (n < 1 || n > MAX_EXECUTORS) {
            throw new InvalidInputException(field, n, "is out of range: use 1 to " + MAX_EXECUTORS);
        }
        return n;
    }

    /** 0 means one-shot: the VM serves one build and is destroyed. */
    public static int idleMinutes(String field, int minutes) {
        if (minutes < 0 || minutes > MAX_IDLE_MINUTES) {
            throw new InvalidInputException(field, minutes,
                    "is out of range: use 0 for one-shot agents or up to " + MAX_IDLE_MINUTES + " minutes of idle time");
        }
        return minutes;
    }

    /** 0 means a failed build's VM goes like any other; otherwise how long it is kept for debugging. */
    public static int keepFailedMinutes(String field, int minutes) {
        if (minutes < 0 || minutes > MAX_KEEP_FAILED_MINUTES) {
            throw new InvalidInputException(field, minutes,
                    "is out of range: use 0 (do not keep) or up to " + MAX_KEEP_FAILED_MINUTES + " minutes");
        }
        return minutes;
    }

    /** Blank means "the base image's own size"; otherwise a size such as 20G, at least 1G. */
    public static long diskSizeMiB(String field, String text) {
        if (text == null || text.isBlank()) {
            return 0;
        }
        // The engine judges disk sizes for the CLI and the VM spec too; one rule for all three.
        return Validation.diskSizeMiB(field, text);
    }

    /** Blank means no memory budget; otherwise the memory all VMs of the cloud may take together. */
    public static long hostMemoryMiB(String field, String text) {
        if (text == null || text.isBlank()) {
            return 0;
        }
        return Validation.sizeMiB(field, text, Validation.MIN_MEMORY_MIB, MAX_HOST_MEMORY_MIB, "20G");
    }

    /** 0 means no CPU budget; otherwise the vCPUs all VMs of the cloud may take together. */
    public static int hostCpus(String field, int cpus) {
        if (cpus < 0 || cpus > MAX_HOST_CPUS) {
            throw new InvalidInputException(field, cpus, "is out of range: use 0 (no limit) to " + MAX_HOST_CPUS);
        }
        return cpus;
    }

    public static int instanceCap(String field, int cap) {
        if (cap < 1 || cap > MAX_INSTANCE_CAP) {
            throw new InvalidInputException(field, cap, "is out of range: use 1 to " + MAX_INSTANCE_CAP);
        }
        return cap;
    }

    /**
     * How many minutes an agent's VM outlives a controller that is gone (a restart): at least 2,
     * so the engine's renewal (every quarter of the lease, looked at every few seconds) always
     * comes in time; at most a day, so a controller that never returns leaves nothing for long.
     */
    public static int restartLeaseMinutes(String field, int minutes) {
        if (minutes < 2 || minutes > 1440) {
            throw new InvalidInputException(field, minutes, "is out of range: use 2 to 1440 minutes (default "
                    + TemplateSpec.AGENT_LEASE.toMinutes() + ")");
        }
        return minutes;
    }

    /** A template's own cap: 0 means none (only the cloud's applies). */
    public static int templateInstanceCap(String field, int cap) {
        if (cap < 0 || cap > MAX_INSTANCE_CAP) {
            throw new InvalidInputException(field, cap, "is out of range: use 0 (only the cloud's cap) to " + MAX_INSTANCE_CAP);
        }
        return cap;
    }

    /** JVM options go into the remote command line as they are; a line break would split it. */
    public static String jvmOptions(String field, String options) {
        if (options == null || options.isBlank()) {
            return "";
        }
        for (int i = 0; i < options.length(); i++) {
            if (Character.isISOControl(options.charAt(i))) {
                throw new InvalidInputException(field, options, "contains a control character (line break, tab or NUL) at position " + i);
            }
        }
        return options.trim();
    }

    /** Blank means "use the default"; otherwise an absolute host path. */
    public static String directory(String field, String path) {
        if (path == null || path.isBlank()) {
            return null;
        }
        String p = path.trim();
        if (!p.startsWith("/")) {
            throw new InvalidInputException(field, path, "is not an absolute path");
        }
        for (int i = 0; i < p.length(); i++) {
            if (Character.isISOControl(p.charAt(i))) {
                throw new InvalidInputException(field, path, "contains a control character at position " + i);
            }
        }
        return p;
    }

    /** Cloud names become part of agent names and URLs, so Jenkins' name rules apply. */
    public static String cloudName(String field, String name) {
        if (name == null || name.isBlank()) {
            throw new InvalidInputException(field, name, "is missing; give the cloud a short name such as 'qemu'");
        }
        String n = name.trim();
        if (n.equals(".") || n.equals("..") || n.endsWith(".")) {
            throw new InvalidInputException(field, name, "must not be '.' or '..' or end with '.'");
        }
        for (int i = 0; i < n.length(); i++) {
            char c = n.charAt(i);
            if (Character.isISOControl(c) || UNSAFE_IN_NAMES.indexOf(c) >= 0) {
                throw new InvalidInputException(field, name, "contains '" + visible(c) + "', which Jenkins does not allow in names");
            }
        }
        return n;
    }

    static String human(long mib) {
        return Validation.sizeText(mib);
    }

    private static String visible(char c) {
        return Character.isISOControl(c) ? String.format("\\x%02x", (int) c) : String.valueOf(c);
    }
}
