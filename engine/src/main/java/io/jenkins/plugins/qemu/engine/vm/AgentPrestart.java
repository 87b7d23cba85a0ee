package io.jenkins.plugins.qemu.engine.vm;

import io.jenkins.plugins.qemu.engine.guest.AgentBootstrap;
import io.jenkins.plugins.qemu.engine.image.Sha256;
import io.jenkins.plugins.qemu.engine.ssh.GuestProcess;
import io.jenkins.plugins.qemu.engine.ssh.GuestSsh;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The agent a warm snapshot carries already started: before the guest is saved, the agent's JVM
 * is started through {@link AgentBootstrap} with the options the launcher would give it, loads the
 * agent jar's classes and waits on a port of the guest's loopback. A restored clone's launcher
 * then connects to it through the VM's SSH session (direct port forwarding; nothing listens on
 * the host, nothing is run) instead of starting {@code java}: a JVM start under TCG costs 1-2 s.
 * The greeting carries a key made of the jar's hash, the bootstrap's hash and the JVM options,
 * so an agent started with anything else (another template's options, a stale guest file, any
 * other program on that port) is never used; the launcher then starts {@code java} as always.
 * Its standard error, which a started command would send to the agent's log, goes to a file in
 * the guest ({@link #logPath()}), read back when the agent fails.
 */
public final class AgentPrestart {
    /** The guest loopback port; an unprivileged one the guest's services do not use. */
    static final int PORT = 47813;
    private static final Duration READY = Duration.ofMinutes(2);

    private final AgentJar jar;
    private final List<String> options;
    private final byte[] bootstrap;
    private final String key;

    /** The agent of {@code jar} as a VM with this accelerator starts it ({@link AgentJar#jvmOptions(Accel)}). */
    public AgentPrestart(AgentJar jar, Accel accel) throws IOException {
        this.jar = jar;
        this.options = jar.jvmOptions(accel);
        this.bootstrap = ClassJar.of(AgentBootstrap.class);
        MessageDigest d = Sha256.newDigest();
        d.update(bootstrap);
        String bootstrapHash = Sha256.hex(d);
        d = Sha256.newDigest();
        d.update((jar.sha256() + "\n" + bootstrapHash + "\n" + String.join(" ", options)).getBytes(StandardCharsets.UTF_8));
        this.key = Sha256.hex(d).substring(0, 16);
    }

    /** Names this agent: jar, bootstrap and JVM options; also what a snapshot's key records. */
    public String key() {
        return key;
    }

    /** The agent's standard error in the guest, relative to the agent user's home. */
    public String logPath() {
        return AgentJar.DIR + "/prestarted-" + key + ".log";
    }

    private String bootstrapPath() {
        return AgentJar.DIR + "/bootstrap-" + key + ".jar";
    }

    private String readyPath() {
        return AgentJar.DIR + "/prestarted-" + key + ".ready";
    }

    /**
     * For the warm snapshot's boot, with the agent jar in place: starts the agent in its own
     * session (it outlives this SSH session and is saved with the guest) and returns once it
     * listens, or fails with the tail of its log.
     */
    public void start(GuestSsh.Connection ssh, Duration timeout) throws IOException {
        AgentJar.write(ssh, new ByteArrayInputStream(bootstrap), bootstrapPath(), "the agent bootstrap to the guest", timeout);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long tenths = Math.max(1, (timeout.compareTo(READY) < 0 ? timeout : READY).toMillis() / 100);
        String java = "java " + String.join(" ", options) + " -cp " + bootstrapPath() + ":" + jar.guestPath() + " "
                + AgentBootstrap.class.getName() + " " + PORT + " " + key + " " + jar.guestPath() + " " + readyPath();
        int rc = ssh.exec("rm -f " + readyPath() + "; setsid " + java + " </dev/null >/dev/null 2>" + logPath() + " & pid=$!;"
                + " for i in $(seq " + tenths + "); do test -s " + readyPath() + " && exit 0;"
                + " kill -0 $pid 2>/dev/null || break; sleep 0.1; done; kill $pid 2>/dev/null; tail -c 2000 " + logPath() + "; exit 1",
                null, out, out, timeout.plusSeconds(10));
        if (rc != 0) {
            throw new IOException("the pre-started agent did not start listening on the guest's 127.0.0.1:" + PORT + ": " + text(out));
        }
    }

    /**
     * Connects to the pre-started agent, claims it with this key and hands it {@code args}; the
     * connection's streams are then the agent's standard input and output. Empty when there is
     * none with this key (a cold boot, a snapshot made without one or for other options, an
     * agent already claimed); one with another key is left waiting.
     */
    public Optional<GuestProcess> connect(GuestSsh.Connection ssh, List<String> args, Duration timeout) throws IOException {
        for (String a : args) {
            if (a.indexOf(AgentBootstrap.SEPARATOR) >= 0 || a.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("agent argument with a tab or a line break: '" + a + "'");
            }
        }
        GuestProcess agent;
        try {
            agent = ssh.forward(PORT, timeout);
        } catch (IOException nothingListens) {
            return Optional.empty();
        }
        try {
            String greeting = greeting(agent.stdout(), timeout);
            if (!(AgentBootstrap.GREETING + " " + key).equals(greeting)) {
                agent.close();
                return Optional.empty();
            }
            List<String> claim = new java.util.ArrayList<>(List.of(key));
            claim.addAll(args);
            agent.stdin().write((String.join(String.valueOf(AgentBootstrap.SEPARATOR), claim) + "\n").getBytes(StandardCharsets.UTF_8));
            agent.stdin().flush();
            return Optional.of(agent);
        } catch (IOException | RuntimeException e) {
            agent.close();
            throw e;
        }
    }

    /** The first line, or null if none came within {@code timeout} (something else listens, silent). */
    private static String greeting(InputStream in, Duration timeout) throws IOException {
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            try {
                for (int c; (c = in.read()) != '\n'; ) {
                    if (c < 0 || b.size() > 200) {
                        return null;
                    }
                    b.write(c);
                }
            } catch (IOException e) {
                return null;
            }
            return b.toString(StandardCharsets.UTF_8);
        });
        try {
            return line.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the pre-started agent's greeting", e);
        } catch (ExecutionException e) {
            throw new IOException("reading the pre-started agent's greeting", e.getCause());
        }
    }

    /** The tail of the agent's standard error in the guest, for a failed agent's log; empty if none. */
    public String logTail(GuestSsh.Connection ssh, Duration timeout) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ssh.exec("tail -c 16384 " + logPath() + " 2>/dev/null; true", null, out, OutputStream.nullOutputStream(), timeout);
        return text(out);
    }

    private static String text(ByteArrayOutputStream b) {
        return b.toString(StandardCharsets.UTF_8).strip();
    }
}
