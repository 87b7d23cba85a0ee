package io.jenkins.plugins.qemu.engine.vm;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.image.Sha256;
import io.jenkins.plugins.qemu.engine.ssh.GuestSsh;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The jar an agent JVM runs in the guest (Jenkins' remoting.jar, or the benchmark's echo agent),
 * named in the guest by its SHA-256 so a different jar is never mistaken for this one. A template
 * that names one gets it into its warm snapshot together with a class-data-sharing archive made
 * by running it once there, so a restored clone starts the agent without copying anything and
 * with its classes already parsed; the jar's hash is part of the snapshot's key, so a new jar (a
 * Jenkins upgrade) makes the snapshot stale. A cold-booted VM gets the jar copied by
 * {@link #place}, in one SSH command and no SFTP. Paths are relative to the agent user's home,
 * where SSH commands start.
 */
public record AgentJar(Path file, String sha256, List<String> options, List<CachedJar> cached) {
    static final String DIR = ".cache/qemu-agents";
    /** The remoting agent's jar cache in the guest, relative to the home directory like the rest. */
    static final String JAR_CACHE = DIR + "/jar-cache";

    public AgentJar {
        if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
            throw new InvalidInputException("agent jar sha256", sha256, "must be 64 lower-case hex digits");
        }
        options = List.copyOf(options);
        cached = List.copyOf(cached);
    }

    /** The jar without JVM options of a template's own and with nothing for its jar cache. */
    public AgentJar(Path file, String sha256) {
        this(file, sha256, List.of(), List.of());
    }

    /**
     * The same jar with {@code jars} to be put into the agent's jar cache in the warm snapshot
     * (see {@link CachedJar}); part of the snapshot's key.
     */
    public AgentJar withCachedJars(List<CachedJar> jars) {
        return new AgentJar(file, sha256, options, jars);
    }

    /**
     * The same jar for a template whose agent JVM gets {@code templateOptions} after the jar's
     * own (see {@link #jvmOptions(Accel)}): the agent a warm snapshot pre-starts runs with them,
     * so they are part of the snapshot's key. Blank entries are dropped.
     */
    public AgentJar withOptions(List<String> templateOptions) {
        return new AgentJar(file, sha256, templateOptions.stream().filter(o -> !o.isBlank()).toList(), cached);
    }

    /** The jar at {@code file}, hashed now. */
    public static AgentJar of(Path file) throws IOException {
        return new AgentJar(file, Sha256.of(file));
    }

    /** Where the jar lives in the guest, relative to the agent user's home. */
    public String guestPath() {
        return DIR + "/agent-" + sha256.substring(0, 16) + ".jar";
    }

    /** The class-data-sharing archive a warm snapshot carries beside the jar. */
    public String archivePath() {
        return DIR + "/agent-" + sha256.substring(0, 16) + ".jsa";
    }

    /**
     * JVM options that use the archive where it exists; {@code -Xshare:auto} means a JVM without
     * it (a cold boot) or with one it cannot use starts all the same, only without the head start.
     */
    public List<String> jvmOptions() {
        return List.of("-XX:SharedArchiveFile=" + archivePath(), "-Xshare:auto");
    }

    /**
     * {@link #jvmOptions()} for an agent whose standard output is its channel, on a VM with this
     * accelerator. The JVM prints its own messages and unified-logging warnings (an archive it
     * cannot use, say) on stdout, where one such line breaks the channel; they go to stderr, the
     * agent's log. Under TCG the agent JVM also compiles with C1 only: C2's compiler threads compete
     * with the agent for an emulated vCPU while it loads the controller's classes, and an agent JVM
     * mostly moves bytes between the channel and its processes, where C2 buys little. Measured in a
     * real Jenkins on this machine, same run: a warm clone's agent connected in 21 s with C1 only
     * against 41-49 s without. With KVM C2 stays. The template's own {@link #options()} come
     * last and win.
     */
    public List<String> jvmOptions(Accel accel) {
        List<String> options = new java.util.ArrayList<>(List.of("-XX:+DisplayVMOutputToStderr", "-Xlog:disable", "-Xlog:all=warning:stderr"));
        options.addAll(jvmOptions());
        if (accel == Accel.TCG) {
            options.add("-XX:TieredStopAtLevel=1");
        }
        options.addAll(this.options);
        return List.copyOf(options);
    }

    /** The command that runs the agent with the JVM {@code options} (e.g. {@link #jvmOptions()} and the template's own). */
    public String javaCommand(List<String> options) {
        return "exec java " + String.join(" ", options) + (options.isEmpty() ? "" : " ") + "-jar " + guestPath();
    }

    /**
     * The command that runs Jenkins' remoting agent on its stdio, with the JVM {@code options} (e.g.
     * {@link #jvmOptions()} and the template's own) and {@code workDir} (an absolute path already
     * validated as shell-safe) as its work directory, made if missing. It starts in the home
     * directory on purpose: the class-data-sharing archive was written with the jar on exactly this
     * relative path, and a JVM whose class path is spelled differently does not use it.
     */
    public String remotingCommand(List<String> options, String workDir) {
        return "mkdir -p " + workDir + " && " + javaCommand(options) + " " + String.join(" ", remotingArguments(workDir));
    }

    /**
     * The remoting agent's own arguments for {@code workDir}: its work directory, and its jar
     * cache where a warm snapshot put the controller's jars ({@link #seedJarCache}), the same
     * for every template so a template's remote directory does not matter.
     */
    public static List<String> remotingArguments(String workDir) {
        return List.of("-workDir", workDir, "-jar-cache", JAR_CACHE);
    }

    /**
     * For the warm snapshot's boot: each of {@link #cached()} copied into the agent's jar cache
     * under remoting's name for it, written beside and renamed like the agent jar, so a clone's
     * agent loads the controller's classes from its own disk instead of fetching the jars
     * over its channel.
     */
    public void seedJarCache(GuestSsh.Connection ssh, Duration timeout) throws IOException {
        for (CachedJar jar : cached) {
            try (InputStream in = Files.newInputStream(jar.file())) {
                write(ssh, in, JAR_CACHE + "/" + jar.cachePath(), jar.file() + " into the agent's jar cache", timeout);
            }
        }
    }

    /**
     * Makes sure the jar is in the guest: one command that says whether it is there already (a
     * restored clone of a snapshot that carries it), and only if not a second one that streams it
     * in, written beside and renamed so a half-copied jar is never run. Returns whether it copied.
     */
    public boolean place(GuestSsh.Connection ssh, Duration timeout) throws IOException {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = ssh.exec("test -s " + guestPath(), null, OutputStream.nullOutputStream(), err, timeout);
        if (rc == 0) {
            return false;
        }
        try (InputStream in = Files.newInputStream(file)) {
            write(ssh, in, guestPath(), "the agent jar to the guest", timeout);
        }
        return true;
    }

    /**
     * Writes {@code in} to {@code target} in the guest (relative to the home), its folder made,
     * written beside and renamed so a half-copied file is never used; {@code what} names the copy
     * in the error.
     */
    static void write(GuestSsh.Connection ssh, InputStream in, String target, String what, Duration timeout) throws IOException {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String tmp = target + ".part";
        int rc = ssh.exec("mkdir -p " + target.substring(0, target.lastIndexOf('/')) + " && cat > " + tmp + " && mv -f " + tmp + " "
                + target, in, OutputStream.nullOutputStream(), err, timeout);
        if (rc != 0) {
            throw new IOException("copying " + what + " failed (exit " + rc + "): " + err.toString(StandardCharsets.UTF_8).strip());
        }
    }

    /**
     * For the warm snapshot's boot: the jar in place, then one run of it with its standard input at
     * end-of-file (an agent that reads its channel from stdio starts, finds no controller and exits)
     * that writes the classes it loaded into the archive.
     */
    public void prepareSnapshot(GuestSsh.Connection ssh, Duration timeout) throws IOException {
        place(ssh, timeout);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int rc = ssh.exec("java -XX:ArchiveClassesAtExit=" + archivePath() + " -jar " + guestPath() + " </dev/null >/dev/null 2>&1;"
                + " test -s " + archivePath(), null, out, out, timeout);
        if (rc != 0) {
            throw new IOException("the agent jar's class-data-sharing archive was not written: " + out.toString(StandardCharsets.UTF_8).strip());
        }
    }
}
