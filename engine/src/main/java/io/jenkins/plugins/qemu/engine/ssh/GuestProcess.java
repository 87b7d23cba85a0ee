package io.jenkins.plugins.qemu.engine.ssh;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Optional;
import org.apache.sshd.client.channel.ClientChannel;
import org.apache.sshd.client.channel.ClientChannelEvent;

/**
 * A command running in the guest on an open SSH connection, whose standard input and output are
 * streams the caller keeps for as long as the command runs: what an agent's channel is made of
 * (Jenkins' remoting speaks over the agent JVM's stdio). Standard error goes to the stream given
 * at start. It can also be a connection to a process already running in the guest, forwarded
 * through the session to a port of the guest's loopback (see GuestSsh.Connection#forward): its
 * streams are the connection's, and it has no exit status. Closing ends the SSH channel, not the
 * connection it runs on.
 */
public final class GuestProcess implements AutoCloseable {
    private final ClientChannel channel;
    private final String command;

    GuestProcess(ClientChannel channel, String command) {
        this.channel = channel;
        this.command = command;
    }

    /** What the command writes to its standard output. */
    public InputStream stdout() {
        return channel.getInvertedOut();
    }

    /** The command's standard input; closing it sends end-of-file. */
    public OutputStream stdin() {
        return channel.getInvertedIn();
    }

    /** The command as it was started, for logs. */
    public String command() {
        return command;
    }

    /** Whether the channel still runs: the command has not ended and nobody closed it. */
    public boolean isOpen() {
        return channel.isOpen() && !channel.isClosing();
    }

    /**
     * Waits up to {@code timeout} for the command to end; its exit status, if it ended with one
     * (never for a forwarded connection, which has none).
     */
    public Optional<Integer> awaitExit(Duration timeout) {
        channel.waitFor(EnumSet.of(ClientChannelEvent.CLOSED, ClientChannelEvent.EXIT_STATUS), timeout);
        return Optional.ofNullable(channel.getExitStatus());
    }

    /** Ends the command's channel at once; the guest's sshd then ends the command (SIGHUP). */
    @Override
    public void close() throws IOException {
        channel.close(true);
    }
}
