package io.jenkins.plugins.qemu.engine.bench;

import io.jenkins.plugins.qemu.engine.ssh.GuestSsh;
import io.jenkins.plugins.qemu.engine.vm.AgentJar;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

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

    /** {@code jvmOptions}: the template's own, after the jar's options as in the plugin's launcher. */
    public AgentWorkload(AgentJar jar, List<String> jvmOptions) {
        this.jar = jar;
        this.jvmOptions = List.copyOf(jvmOptions);
    }

    public AgentJar jar() {
        return jar;
    }

    /** Writes the echo agent's jar to {@code file}; the same bytes every time. */
    public static AgentJar writeJar(Path file) throws IOException {
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().put(Attributes.Name.MAIN_CLASS, EchoAgent.class.getName());
        String entry = EchoAgent.class.getName().replace('.', '/') + ".class";
        FileTime fixed = FileTime.fromMillis(946684800000L);
        try (InputStream cls = EchoAgent.class.getResourceAsStream("/" + entry)) {
            if (cls == null) {
                throw new IOException("the engine jar lacks " + entry);
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (JarOutputStream out = new JarOutputStream(bytes)) {
                JarEntry manifest = new JarEntry("META-INF/MANIFEST.MF");
                manifest.setLastModifiedTime(fixed);
                out.putNextEntry(manifest);
                m.write(out);
                out.closeEntry();
                JarEntry e = new JarEntry(entry);
                e.setLastModifiedTime(fixed);
                out.putNextEntry(e);
                cls.transferTo(out);
                out.closeEntry();
            }
            Files.write(file, bytes.toByteArray());
        }
        return AgentJar.of(file);
    }

    /**
     * Runs the workload on an online VM (over the VM's own connection, see Vm#connect) and puts its
     * seconds into {@code phases}: {@code agent_jar} (jar in place: nothing to do for a clone of a
     * snapshot that carries it, a check and a copy otherwise), {@code agent_jvm_plain} (the same
     * without the class-data-sharing archive, for comparison), {@code agent_jvm} (java started until it answers) and
     * {@code agent_copied} (1 if the jar had to be copied).
     */
    public void run(Vm vm, Map<String, Double> phases) throws IOException {
        long start = System.nanoTime();
        try (GuestSsh.Connection ssh = vm.connect(STEP)) {
            boolean copied = vm.placeAgentJar(ssh, STEP);
            phases.put("agent_jar", (System.nanoTime() - start) / 1e9);
            phases.put("agent_copied", copied ? 1.0 : 0.0);
            // As the plugin's launcher starts it: the jar's options for this accelerator, then the template's.
            List<String> options = new ArrayList<>(jar.jvmOptions(vm.accelerator().accel()));
            options.addAll(jvmOptions);
            // The same JVM without the archive, as Jenkins' launcher starts it, for a same-run
            // comparison; it goes first every other sample, so neither always finds the other's
            // pages cached.
            boolean plainFirst = runs.getAndIncrement() % 2 == 1;
            if (plainFirst) {
                phases.put("agent_jvm_plain", answer(ssh, jvmOptions));
            }
            phases.put("agent_jvm", answer(ssh, options));
            if (!plainFirst) {
                phases.put("agent_jvm_plain", answer(ssh, jvmOptions));
            }
        }
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
