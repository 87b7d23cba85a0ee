package io.jenkins.plugins.qemu.engine.bench;

import io.jenkins.plugins.qemu.engine.ssh.GuestProcess;
import io.jenkins.plugins.qemu.engine.ssh.GuestSsh;
import io.jenkins.plugins.qemu.engine.vm.AgentJar;
import io.jenkins.plugins.qemu.engine.vm.AgentPrestart;
import io.jenkins.plugins.qemu.engine.vm.ClassJar;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The benchmark's agent workload: once a VM is online, what Jenkins' SSH launcher does next, over
 * one SSH connection as the launcher uses one: the agent jar put in place (copied unless the warm
 * snapshot carries it already), then {@code java -jar} of it started and timed until it answers
 * a line on its standard output. The jar is {@link EchoAgent} packed with fixed timestamps, so
 * its hash, and with it the warm snapshot's key, is the same in every run.
 */
public final class AgentWorkload {
    private static final String PING = "ping";
    private static final Duration STEP = Duration.ofMinutes(3);

    private final AgentJar jar;
    private final List<String> jvmOptions;
    private final java.util.concurrent.atomic.AtomicInteger runs = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * {@code jvmOptions}: the template's own, after the jar's options as in the plugin's launcher;
     * the jar carries them (and with it the template's spec), as the agent a warm snapshot
     * pre-starts runs with them.
     */
    public AgentWorkload(AgentJar jar, List<String> jvmOptions) {
        this.jar = jar.withOptions(jvmOptions);
        this.jvmOptions = List.copyOf(jvmOptions);
    }

    public AgentJar jar() {
        return jar;
    }

    /** Writes the echo agent's jar to {@code file}; the same bytes every time. */
    public static AgentJar writeJar(Path file) throws IOException {
        Files.write(file, ClassJar.of(EchoAgent.class));
        return AgentJar.of(file);
    }

    /**
     * Runs the workload on an online VM (over the VM's own connection, see Vm#connect) and puts its
     * seconds into {@code phases}: {@code agent_jar} (jar in place: nothing to do for a clone of a
     * snapshot that carries it, a check and a copy otherwise), {@code agent_jvm} (the agent as the
     * plugin's launcher gets it, until it answers: a warm clone's pre-started agent, see
     * AgentPrestart, else java started with the class-data-sharing archive),
     * {@code agent_prestarted} (1 if it was pre-started), and for same-run comparisons on the same
     * VM {@code agent_jvm_cds} (a fresh java with the archive) and {@code agent_jvm_plain} (a fresh
     * java without it, as Jenkins' own SSH launcher starts one); {@code agent_copied} is 1 if the
     * jar had to be copied.
     */
    public void run(Vm vm, Map<String, Double> phases) throws IOException {
        long start = System.nanoTime();
        try (GuestSsh.Connection ssh = vm.connect(STEP)) {
            boolean copied = vm.placeAgentJar(ssh, STEP);
            phases.put("agent_jar", (System.nanoTime() - start) / 1e9);
            phases.put("agent_copied", copied ? 1.0 : 0.0);
            List<String> options = jar.jvmOptions(vm.accelerator().accel());
            long launch = System.nanoTime();
            Optional<GuestProcess> prestarted = new AgentPrestart(jar, vm.accelerator().accel()).connect(ssh, List.of(), STEP);
            phases.put("agent_prestarted", prestarted.isPresent() ? 1.0 : 0.0);
            if (prestarted.isPresent()) {
                try (GuestProcess agent = prestarted.get()) {
                    phases.put("agent_jvm", answer(agent, launch));
                }
            } else {
                phases.put("agent_jvm", answer(ssh, options));
            }
            // The fresh JVMs go in turns, so neither always finds the other's pages cached.
            boolean plainFirst = runs.getAndIncrement() % 2 == 1;
            if (plainFirst) {
                phases.put("agent_jvm_plain", answer(ssh, jvmOptions));
            }
            phases.put("agent_jvm_cds", answer(ssh, options));
            if (!plainFirst) {
                phases.put("agent_jvm_plain", answer(ssh, jvmOptions));
            }
        }
    }

    /** Seconds from {@code start} until the connected agent answers a line. */
    private static double answer(GuestProcess agent, long start) throws IOException {
        FirstLine out = new FirstLine();
        agent.stdin().write((PING + "\n").getBytes(StandardCharsets.UTF_8));
        agent.stdin().flush();
        byte[] buf = new byte[256];
        for (int n; out.line() == null && (n = agent.stdout().read(buf)) > 0; ) {
            out.write(buf, 0, n);
        }
        if (!PING.equals(out.line())) {
            throw new IOException("the pre-started agent did not answer '" + PING + "' (stdout '" + out.line() + "')");
        }
        return (out.at() - start) / 1e9;
    }

    /** Seconds from starting the agent JVM with {@code options} until it answers a line. */
    private double answer(GuestSsh.Connection ssh, List<String> options) throws IOException {
        long start = System.nanoTime();
        FirstLine out = new FirstLine();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = ssh.exec(jar.javaCommand(options), new ByteArrayInputStream((PING + "\n").getBytes(StandardCharsets.UTF_8)),
                out, err, STEP);
        if (rc != 0 || !PING.equals(out.line())) {
            throw new IOException("the agent JVM did not answer '" + PING + "' (exit " + rc + ", stdout '" + out.line() + "'): "
                    + err.toString(StandardCharsets.UTF_8).strip());
        }
        return (out.at() - start) / 1e9;
    }

    /** Keeps the first line written and when its end arrived; the agent's only answer. */
    private static final class FirstLine extends OutputStream {
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
        private volatile long at;
        private volatile String line;

        @Override
        public synchronized void write(int b) {
            if (line != null) {
                return;
            }
            if (b == '\n') {
                at = System.nanoTime();
                line = buf.toString(StandardCharsets.UTF_8);
            } else {
                buf.write(b);
            }
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            for (int i = 0; i < len; i++) {
                write(b[off + i]);
            }
        }

        String line() {
            return line;
        }

        long at() {
            return at;
        }
    }
}
