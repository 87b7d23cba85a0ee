package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import hudson.model.TaskListener;
import hudson.slaves.AbstractCloudComputer;
import io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The computer of a {@link QemuAgent}: reports what the retention strategy needs to decide about
 * the agent, writes the VM's boot log into the agent log, and gives (permission-checked, see
 * {@link GuestConsoleAction}) access to the guest's serial console.
 */
public class QemuComputer extends AbstractCloudComputer<QemuAgent> {
    /** Tail shown of the guest console; boot messages and a login prompt fit comfortably. */
    static final int CONSOLE_TAIL_BYTES = 256 * 1024;

    private volatile long offlineSinceMillis;
    private volatile boolean provisioningLogPrinted;

    public QemuComputer(QemuAgent agent) {
        super(agent);
    }

    /** The engine's boot progress and phase timings, once, at the top of the agent log. */
    void printProvisioningLog(TaskListener listener) {
        QemuAgent agent = getNode();
        if (agent == null || provisioningLogPrinted) {
            return;
        }
        provisioningLogPrinted = true;
        for (String line : agent.provisioningLog()) {
            listener.getLogger().println(line);
        }
    }

    /** A snapshot for {@link RetentionPolicy#decide}; also tracks since when the agent is offline. */
    RetentionPolicy.Observation observe() {
        QemuAgent agent = getNode();
        long now = System.currentTimeMillis();
        boolean connecting = isConnecting();
        boolean online = isOnline();
        if (online || connecting) {
            offlineSinceMillis = 0;
        } else if (offlineSinceMillis == 0) {
            offlineSinceMillis = now;
        }
        long offlineSince = offlineSinceMillis;
        return new RetentionPolicy.Observation(
                agent != null && agent.isVmAlive(),
                connecting,
                online,
                isIdle(),
                Duration.ofMillis(Math.max(0, now - getIdleStartMilliseconds())),
                offlineSince == 0 ? Duration.ZERO : Duration.ofMillis(now - offlineSince));
    }

    /** The guest's serial console log while the VM lives; null when there is none. */
    @CheckForNull
    Path guestConsoleFile() {
        QemuAgent agent = getNode();
        Vm vm = agent == null ? null : agent.liveVm();
        if (vm == null) {
            return null;
        }
        Path file = vm.consoleFile();
        return Files.isReadable(file) ? file : null;
    }

    /** The last {@link #CONSOLE_TAIL_BYTES} of the guest console, or a note why there is none. */
    String guestConsoleTail() throws IOException {
        Path file = guestConsoleFile();
        if (file == null) {
            return "(the VM is gone; its console went with it)";
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            long length = raf.length();
            long start = Math.max(0, length - CONSOLE_TAIL_BYTES);
            byte[] bytes = new byte[(int) (length - start)];
            raf.seek(start);
            raf.readFully(bytes);
            String text = new String(bytes, StandardCharsets.UTF_8);
            return start == 0 ? text : "(earlier output omitted)\n" + text.substring(Math.max(0, text.indexOf('\n') + 1));
        }
    }
}
