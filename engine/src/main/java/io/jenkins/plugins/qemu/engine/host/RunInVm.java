package io.jenkins.plugins.qemu.engine.host;

import io.jenkins.plugins.qemu.engine.vm.Vm;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Runs a command in a VM of the host over the engine's pinned-key SSH session (the Test button's
 * check, a diagnosis), and answers with its status and output. The output is cut to its last
 * {@link #MAX_OUTPUT} bytes so a chatty command cannot fill the channel.
 */
public record RunInVm(String vmId, String command, Duration timeout) implements HostRequest<CommandResult> {
    private static final long serialVersionUID = 1L;
    public static final int MAX_OUTPUT = 64 * 1024;

    @Override
    public CommandResult runOn(HostSide host) throws IOException {
        Vm vm = host.vm(vmId).orElseThrow(() -> new IOException("host " + host.host() + " has no VM " + vmId));
        Tail out = new Tail();
        Tail err = new Tail();
        int rc = vm.exec(command, out, err, timeout);
        return new CommandResult(rc, out.text(), err.text());
    }

    /** Keeps the last bytes written to it. */
    private static final class Tail extends OutputStream {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public synchronized void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            bytes.write(b, off, len);
            if (bytes.size() > 2 * MAX_OUTPUT) {
                byte[] all = bytes.toByteArray();
                bytes.reset();
                bytes.write(all, all.length - MAX_OUTPUT, MAX_OUTPUT);
            }
        }

        synchronized String text() {
            byte[] all = bytes.toByteArray();
            int from = Math.max(0, all.length - MAX_OUTPUT);
            return new String(all, from, all.length - from, StandardCharsets.UTF_8);
        }
    }
}
