package io.jenkins.plugins.qemu;

import io.jenkins.plugins.qemu.engine.host.HostSide;
import io.jenkins.plugins.qemu.engine.ssh.GuestProcess;
import io.jenkins.plugins.qemu.engine.ssh.GuestSsh;
import io.jenkins.plugins.qemu.engine.vm.AgentJar;
import io.jenkins.plugins.qemu.engine.vm.AgentPrestart;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The agent JVM in a host's VM, started where the VM runs (in the host agent's JVM, or in the
 * controller's for the built-in host) over the engine's own pinned-key SSH session: the jar is put
 * in place (a warm clone has it), a warm clone's pre-started agent is claimed, else {@code java}
 * is started. The key never leaves the host's engine. This object owns the agent's SSH command
 * channel and the session; {@link #close()} ends both, once, from whichever side ends first.
 */
final class GuestAgent implements AutoCloseable {
    private static final Logger LOGGER = Logger.getLogger(GuestAgent.class.getName());
    private static final Duration STEP = Duration.ofSeconds(60);

    private final String vmId;
    private final GuestProcess process;
    private final GuestSsh.Connection ssh;
    private final AtomicBoolean closed = new AtomicBoolean();

    private GuestAgent(String vmId, GuestProcess process, GuestSsh.Connection ssh) {
        this.vmId = vmId;
        this.process = process;
        this.ssh = ssh;
    }

    /** Starts (or claims) the agent of VM {@code vmId} of this host; its progress goes to {@code log}. */
    static GuestAgent start(HostSide side, String vmId, String remoteFs, PrintStream log) throws IOException {
        Vm vm = side.vm(vmId).orElseThrow(() -> new IOException("host " + side.host() + " has no VM " + vmId + " (it is gone)"));
        AgentJar jar = vm.spec().agentJar();
        if (jar == null) {
            throw new IOException("VM " + vmId + " on host " + side.host() + " was booted without an agent jar");
        }
        long start = System.nanoTime();
        GuestSsh.Connection ssh = vm.connect(STEP);
        GuestProcess process = null;
        try {
            boolean copied = vm.placeAgentJar(ssh, STEP);
            log.println("VM " + vmId + " on host " + side.host() + ": agent jar " + (copied ? "copied" : "already in place")
                    + " after " + (System.nanoTime() - start) / 1_000_000 + " ms");
            List<String> options = jar.jvmOptions(vm.accelerator().accel());
            if (vm.restored()) {
                process = new AgentPrestart(jar, vm.accelerator().accel()).connect(ssh, AgentJar.remotingArguments(remoteFs), STEP).orElse(null);
                log.println("VM " + vmId + ": " + (process != null ? "claimed the agent the warm snapshot started"
                        : "the warm clone has no agent started with these options; starting one"));
            }
            if (process == null) {
                String command = jar.remotingCommand(options, remoteFs);
                log.println("VM " + vmId + " on host " + side.host() + ": starting the agent: " + command);
                process = ssh.start(command, log, STEP);
            }
            return new GuestAgent(vmId, process, ssh);
        } catch (IOException | RuntimeException e) {
            try {
                if (process != null) {
                    process.close();
                }
            } catch (IOException closing) {
                e.addSuppressed(closing);
            } finally {
                ssh.close();
            }
            throw e;
        }
    }

    InputStream stdout() {
        return process.stdout();
    }

    OutputStream stdin() {
        return process.stdin();
    }

    /**
     * Copies the agent's output to {@code toController} and {@code fromController} to its input, on
     * two daemon threads. When the controller's side ends, only the agent's input is closed: its
     * last words (the answer to the channel's close) still flow up, and the agent ends on that
     * end-of-file. When the agent's output ends (or breaks), everything goes.
     */
    void bridge(OutputStream toController, InputStream fromController) {
        thread("up", () -> copy(process.stdout(), toController), () -> {
            close();
            closeQuietly(toController, "the pipe to the controller");
        });
        thread("down", () -> copy(fromController, process.stdin()), () -> closeQuietly(process.stdin(), "the agent's input"));
    }

    private void closeQuietly(java.io.Closeable c, String what) {
        try {
            c.close();
        } catch (IOException e) {
            LOGGER.log(Level.FINE, "VM " + vmId + ": closing " + what, e);
        }
    }

    private void thread(String direction, IoTask task, Runnable atEnd) {
        Thread t = new Thread(() -> {
            try {
                task.run();
            } catch (IOException e) {
                LOGGER.log(Level.FINE, "VM " + vmId + ": agent bridge " + direction + " ended", e);
            } finally {
                atEnd.run();
            }
        }, "qemu-agents bridge " + direction + " " + vmId);
        t.setDaemon(true);
        t.start();
    }

    private interface IoTask {
        void run() throws IOException;
    }

    private static void copy(InputStream in, OutputStream out) throws IOException {
        byte[] buf = new byte[64 * 1024];
        int n;
        while ((n = in.read(buf)) >= 0) {
            out.write(buf, 0, n);
            out.flush();
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            process.close();
        } catch (IOException e) {
            LOGGER.log(Level.FINE, "VM " + vmId + ": closing the agent's command channel", e);
        } finally {
            ssh.close();
        }
    }
}
