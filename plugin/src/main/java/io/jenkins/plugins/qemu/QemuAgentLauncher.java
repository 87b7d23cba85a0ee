package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Extension;
import hudson.model.Computer;
import hudson.model.Descriptor;
import hudson.model.TaskListener;
import hudson.remoting.Channel;
import hudson.slaves.ComputerLauncher;
import hudson.slaves.SlaveComputer;
import hudson.util.Secret;
import io.jenkins.plugins.qemu.engine.ssh.GuestProcess;
import io.jenkins.plugins.qemu.engine.ssh.GuestSsh;
import io.jenkins.plugins.qemu.engine.vm.AgentJar;
import io.jenkins.plugins.qemu.engine.vm.AgentPrestart;
import io.jenkins.plugins.qemu.engine.vm.PhaseTimings;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Starts the agent in the VM over the engine's own SSH connection: the one the engine logged in
 * with, host key pinned and key in memory, so a launch pays for no new handshake. Jenkins'
 * remoting.jar is already in a warm clone (it rides in the template's snapshot, with a
 * class-data-sharing archive, keyed by the jar's hash) and is copied in one command otherwise; the
 * agent JVM's stdio becomes the channel. A warm clone's agent JVM is running already: the snapshot
 * started it with the template's options ({@link AgentPrestart}), and the launch claims it
 * through the same connection instead of starting {@code java}. ssh-slaves' launcher would open a second connection,
 * print the environment, and read the whole jar back over SFTP to compare hashes before every
 * start. The VM comes from the agent: the one booted for it or, after a controller restart, the
 * leased VM re-attached with the key and host key kept here ({@link QemuAgent#reattach}); the key
 * is a {@link Secret}, so the agent's {@code config.xml} holds it encrypted, never in plain text.
 * An agent whose VM is gone is not launched and goes.
 */
public class QemuAgentLauncher extends ComputerLauncher {
    private static final Logger LOGGER = Logger.getLogger(QemuAgentLauncher.class.getName());
    /** One SSH step (open the command's channel, check or copy the jar); the channel itself has the launch timeout. */
    private static final Duration STEP = Duration.ofSeconds(60);
    /** How long a failed launch waits for the agent process's exit status and last words. */
    private static final Duration EXIT_WAIT = Duration.ofSeconds(5);
    private static final Duration CRASH_WAIT = Duration.ofSeconds(15);

    private final String remoteFs;
    private final String jvmOptions;
    /** What re-attaching the VM after a restart needs: its forwarded port, its key, its pinned host key. */
    private final int port;
    private final Secret privateKey;
    private final String hostKey;

    QemuAgentLauncher(int port, String privateKeyOpenSsh, String hostKeyLine, String remoteFs, String jvmOptions) {
        this.port = port;
        this.privateKey = Secret.fromString(privateKeyOpenSsh);
        this.hostKey = hostKeyLine;
        this.remoteFs = remoteFs;
        this.jvmOptions = jvmOptions;
    }

    int getPort() {
        return port;
    }

    /** The VM's client key in OpenSSH form, decrypted. */
    @CheckForNull
    String privateKeyText() {
        return privateKey == null ? null : privateKey.getPlainText();
    }

    @CheckForNull
    String hostKeyLine() {
        return hostKey;
    }

    @Override
    public boolean isLaunchSupported() {
        return true;
    }

    @Override
    public void launch(SlaveComputer computer, TaskListener listener) throws IOException, InterruptedException {
        if (!(computer instanceof QemuComputer qemu) || qemu.getNode() == null) {
            listener.error("Not a QEMU agent: " + computer.getName());
            return;
        }
        qemu.printProvisioningLog(listener);
        QemuAgent agent = qemu.getNode();
        Vm vm = agent.reattach(listener);
        PrintStream log = listener.getLogger();
        if (vm == null) {
            String why = agent.reattachFailure();
            log.println("VM " + agent.getVmId() + " is gone" + (why == null ? "" : " (" + why + ")") + "; the agent will be removed.");
            return;
        }
        // A VM re-attached after a restart has no jar in its spec; its guest has the jar from before.
        AgentJar jar = vm.spec().agentJar() != null ? vm.spec().agentJar() : QemuEngines.get().remotingJar(jvmOptions);
        long start = System.nanoTime();
        GuestSsh.Connection ssh = vm.connect(STEP);
        GuestProcess agentProcess = null;
        // The snapshot's agent once this launch claimed it: its stderr is a file in the guest.
        AgentPrestart claimed = null;
        try {
            boolean copied = vm.spec().agentJar() != null ? vm.placeAgentJar(ssh, STEP) : jar.place(ssh, STEP);
            long placed = System.nanoTime();
            log.println("VM " + vm.id() + ": agent jar " + (copied ? "copied in " : vm.restored() ? "already in the warm clone, "
                    : "already in place, checked in ") + millis(placed - start));
            List<String> options = jar.jvmOptions(vm.accelerator().accel());
            if (vm.restored() && vm.spec().agentJar() != null) {
                // The warm snapshot started the agent with these options; claiming it skips the JVM's start.
                AgentPrestart prestart = new AgentPrestart(jar, vm.accelerator().accel());
                agentProcess = prestart.connect(ssh, AgentJar.remotingArguments(remoteFs), STEP).orElse(null);
                claimed = agentProcess == null ? null : prestart;
                log.println("VM " + vm.id() + ": " + (agentProcess != null
                        ? "claimed the agent the warm snapshot started (" + String.join(" ", options) + ") in " + millis(System.nanoTime() - placed)
                        : "the warm clone has no agent started with these options; starting one"));
            }
            if (agentProcess == null) {
                String command = jar.remotingCommand(options, remoteFs);
                log.println("VM " + vm.id() + ": starting the agent: " + command);
                agentProcess = ssh.start(command, log, STEP);
            }
            GuestProcess running = agentProcess;
            AgentPrestart claimedAgent = claimed;
            computer.setChannel(running.stdout(), running.stdin(), log, new Channel.Listener() {
                @Override
                public void onClosed(Channel channel, IOException cause) {
                    if (cause == null) {
                        closeQuietly(running, ssh);
                        return;
                    }
                    // Not our own close: the agent JVM may have died. A crashing JVM writes its
                    // report before it exits, which takes seconds under TCG; wait for that off
                    // the channel's thread, then say how it ended while the VM still lives.
                    Computer.threadPoolForRemoting.submit(() -> {
                        Optional<Integer> status = running.awaitExit(CRASH_WAIT);
                        log.println("VM " + vm.id() + ": the agent's channel broke (" + cause + "); the agent process "
                                + howItEnded(status, running, claimedAgent != null, CRASH_WAIT));
                        copyCrashReports(status, ssh, log, vm.id(), claimedAgent);
                        closeQuietly(running, ssh);
                    });
                }
            });
            log.println("VM " + vm.id() + ": agent connected " + millis(System.nanoTime() - start) + " after the launch began");
        } catch (IOException | RuntimeException | InterruptedException e) {
            if (agentProcess != null) {
                // Often the JVM refused to start (a bad JVM option): its exit status, and its
                // stderr above, say why better than the channel's end-of-file.
                Optional<Integer> status = agentProcess.awaitExit(EXIT_WAIT);
                log.println("VM " + vm.id() + ": the agent process " + howItEnded(status, agentProcess, claimed != null, EXIT_WAIT)
                        + "; the launch failed: " + e);
                copyCrashReports(status, ssh, log, vm.id(), claimed);
            }
            closeQuietly(agentProcess, ssh);
            throw e;
        }
    }

    /**
     * A JVM that crashes writes {@code hs_err_pid*.log} into its working directory (the agent
     * user's home here) and the VM, with it, is destroyed moments later; its first 64 KiB go into
     * the agent log, where the registers and the code around the crash can still be read. Asked
     * after every abnormal end, by a broken channel and by a failed launch alike. A pre-started
     * agent's standard error went to a file in the guest, not to this log: its tail comes too.
     */
    private static void copyCrashReports(Optional<Integer> status, GuestSsh.Connection ssh, PrintStream log, String vmId,
            @CheckForNull AgentPrestart prestarted) {
        // A clean exit leaves none; a JVM still busy writing its report has no exit status yet.
        if (status.isPresent() && status.get() == 0) {
            return;
        }
        try {
            if (prestarted != null) {
                String stderr = prestarted.logTail(ssh, Duration.ofSeconds(10));
                if (!stderr.isEmpty()) {
                    log.println("VM " + vmId + ": the agent's standard error (" + prestarted.logPath() + " in the guest):");
                    log.println(stderr);
                }
            }
            java.io.ByteArrayOutputStream report = new java.io.ByteArrayOutputStream();
            ssh.exec("for f in hs_err_pid*.log; do [ -f \"$f\" ] && { echo \"== $f\"; head -c 65536 \"$f\"; }; done; true",
                    null, report, java.io.OutputStream.nullOutputStream(), Duration.ofSeconds(10));
            if (report.size() > 0) {
                log.println("VM " + vmId + ": the agent JVM left a crash report:");
                log.println(report.toString(java.nio.charset.StandardCharsets.UTF_8));
            }
        } catch (IOException | RuntimeException e) {
            log.println("VM " + vmId + ": could not look for the agent JVM's crash report: " + e);
        }
    }

    /**
     * How the agent process ended, after waiting up to {@code waited}: its exit status, or for a
     * claimed pre-started agent (a forwarded connection, which has none) whether it closed.
     */
    private static String howItEnded(Optional<Integer> status, GuestProcess process, boolean claimed, Duration waited) {
        if (status.isPresent()) {
            return "ended with exit status " + status.get();
        }
        if (claimed) {
            return process.isOpen() ? "(pre-started) still held its connection after " + waited.toSeconds() + " s"
                    : "(pre-started) closed its connection; it has no exit status";
        }
        return "had not ended after " + waited.toSeconds() + " s";
    }

    private static String millis(long nanos) {
        return PhaseTimings.millis(Duration.ofNanos(nanos));
    }

    private static void closeQuietly(GuestProcess process, GuestSsh.Connection ssh) {
        try {
            if (process != null) {
                process.close();
            }
        } catch (IOException e) {
            LOGGER.log(Level.FINE, "closing the agent's command channel", e);
        } finally {
            // A borrowed connection (the VM's kept login) stays open; one opened for this launch ends.
            ssh.close();
        }
    }

    /** Hidden from every launcher list (see {@link HiddenDescriptors}); exists so Jenkins can describe the launcher. */
    @Extension
    public static final class DescriptorImpl extends Descriptor<ComputerLauncher> {
        @NonNull
        @Override
        public String getDisplayName() {
            return "Launch the agent in a QEMU VM over the engine's SSH connection";
        }
    }
}
