package io.jenkins.plugins.qemu.engine.ssh;

import java.io.IOException;
import java.io.OutputStream;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelDirectTcpip;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.future.ConnectFuture;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.config.keys.KeyUtils;

/**
 * SSH into guests with a pinned host key and a per-VM key held in memory. One SSH client (and its
 * small I/O thread pool) serves every VM of an engine, so a hundred booting VMs do not mean a
 * hundred threads. Readiness is a real login, the pinned host key seen and the VM's key accepted:
 * QEMU's user-mode network accepts TCP long before sshd listens, so an open port proves nothing.
 */
public final class GuestSsh implements AutoCloseable {
    private static final AttributeRepository.AttributeKey<PublicKey> PINNED = new AttributeRepository.AttributeKey<>();
    private static final AttributeRepository.AttributeKey<AtomicReference<PublicKey>> OFFERED = new AttributeRepository.AttributeKey<>();
    /** The host ports a relay session forwards (see {@link #relayHostPorts}); absent on every other session. */
    private static final AttributeRepository.AttributeKey<java.util.Set<Integer>> RELAYED = new AttributeRepository.AttributeKey<>();

    private final SshClient client;

    public GuestSsh() {
        client = SshClient.setUpDefaultClient();
        // Each connection carries the key it must see; a mismatch is remembered so the caller can
        // tell "wrong key" (fatal) from "not up yet" (retry).
        client.setServerKeyVerifier((session, address, key) -> {
            AttributeRepository context = ((ClientSession) session).getConnectionContext();
            PublicKey pinned = context == null ? null : context.getAttribute(PINNED);
            AtomicReference<PublicKey> offered = context == null ? null : context.getAttribute(OFFERED);
            if (offered != null) {
                offered.set(key);
            }
            return pinned != null && KeyUtils.compareKeys(pinned, key);
        });
        // MINA's client rejects every forwarded connection by default: the guest's sshd then accepts
        // on a relayed port and resets at once. Let through exactly what a relay session relays:
        // connections forwarded to the host's 127.0.0.1 at one of its ports, nothing else.
        client.setForwardingFilter(org.apache.sshd.server.forward.ForwardingFilter.asForwardingFilter(
                org.apache.sshd.server.forward.AgentForwardingFilter.of(false),
                org.apache.sshd.server.forward.X11ForwardingFilter.of(false),
                new org.apache.sshd.server.forward.TcpForwardingFilter() {
                    @Override
                    public boolean canListen(org.apache.sshd.common.util.net.SshdSocketAddress address, org.apache.sshd.common.session.Session session) {
                        return false;
                    }

                    @Override
                    public boolean canConnect(Type type, org.apache.sshd.common.util.net.SshdSocketAddress address,
                            org.apache.sshd.common.session.Session session) {
                        java.util.Set<Integer> relayed = session.getAttribute(RELAYED);
                        return type == Type.Forwarded && relayed != null && relayed.contains(address.getPort())
                                && "127.0.0.1".equals(address.getHostName());
                    }
                }));
        client.start();
    }

    /** Where and as whom to log in: the forwarded port, the agent user and both keys. */
    public record Target(String host, int port, String user, SshKeyPair clientKey, PublicKey hostKey) {
        String endpoint() {
            return user + "@" + host + ":" + port;
        }
    }

    /**
     * Logs in until it succeeds, the deadline passes or {@code cancelled} says stop. Between attempts it waits only briefly: an attempt against a guest whose sshd is
     * not up fails fast (the connection is reset), so a short pause costs little CPU and adds at
     * most that pause to time-to-online. A full login is only tried once the server's banner
     * shows that sshd itself is answering.
     */
    public void awaitLogin(Target target, Instant deadline, Duration pause, BooleanSupplier cancelled)
            throws IOException, InterruptedException {
        awaitLogin(target, deadline, pause, cancelled, false);
    }

    /**
     * {@link #awaitLogin(Target, Instant, Duration, BooleanSupplier)}; with {@code listening} the
     * caller knows sshd listens already (a restored clone's identity service said so), and the
     * first attempt logs in at once: a banner probe costs the guest a whole sshd start of its own
     * (sshd re-executes itself for every connection) for nothing.
     */
    public void awaitLogin(Target target, Instant deadline, Duration pause, BooleanSupplier cancelled, boolean listening)
            throws IOException, InterruptedException {
        awaitSession(target, deadline, pause, cancelled, listening).close();
    }

    /**
     * {@link #awaitLogin(Target, Instant, Duration, BooleanSupplier, boolean)}, keeping the
     * connection whose login succeeded open for the caller, who closes it: the next command (the
     * agent's launch) then costs the guest no new sshd, key exchange or PAM session. It never times
     * out for idleness; a guest that ends it only makes the caller open a new one.
     */
    public Connection awaitSession(Target target, Instant deadline, Duration pause, BooleanSupplier cancelled, boolean listening)
            throws IOException, InterruptedException {
        IOException last = null;
        int attempts = 0;
        while (true) {
            if (cancelled.getAsBoolean()) {
                throw new InterruptedException("cancelled while waiting for SSH on " + target.endpoint());
            }
            Duration left = Duration.between(Instant.now(), deadline);
            if (left.isNegative() || left.isZero()) {
                throw new IOException("no SSH login to " + target.endpoint() + " after " + attempts + " attempts"
                        + (last == null ? "" : "; last error: " + last.getMessage()), last);
            }
            attempts++;
            if (!(listening && attempts == 1) && !SshBanner.answers(target.host(), target.port(), shorter(left, Duration.ofSeconds(5)))) {
                last = new IOException("no SSH banner on " + target.host() + ":" + target.port() + " yet");
                Thread.sleep(pause.toMillis());
                continue;
            }
            try {
                // The accepted login is the readiness proof; a command run only to prove it (it
                // was `true`) cost a restored clone a channel, a PAM session and a shell, about
                // 0.2 s under TCG, before the caller's own first command, which proves the same.
                Connection c = connect(target, shorter(left, Duration.ofSeconds(10)));
                org.apache.sshd.core.CoreModuleProperties.IDLE_TIMEOUT.set(c.session, Duration.ZERO);
                return c;
            } catch (HostKeyMismatchException e) {
                throw e;
            } catch (IOException e) {
                last = e;
            }
            Thread.sleep(pause.toMillis());
        }
    }

    /** Runs one command, streaming its output, and returns its exit status. */
    public int exec(Target target, String command, OutputStream out, OutputStream err, Duration timeout) throws IOException {
        Instant deadline = Instant.now().plus(timeout);
        try (Connection c = connect(target, timeout)) {
            return c.exec(command, null, out, err, remaining(deadline));
        }
    }

    /**
     * One logged-in SSH connection for several commands, as Jenkins' SSH launcher uses one: every
     * new connection costs the guest a whole sshd start, a key exchange and a PAM session, about a
     * second under TCG.
     */
    public Connection connect(Target target, Duration timeout) throws IOException {
        return new Connection(open(target, timeout), target);
    }

    /** A logged-in session to a guest; closing it ends the connection. */
    public static final class Connection implements AutoCloseable {
        private final ClientSession session;
        private final Target target;
        private final boolean owner;

        private Connection(ClientSession session, Target target) {
            this(session, target, true);
        }

        private Connection(ClientSession session, Target target, boolean owner) {
            this.session = session;
            this.target = target;
            this.owner = owner;
        }

        /** The same connection for a borrower, whose close leaves it open for its owner. */
        public Connection borrowed() {
            return new Connection(session, target, false);
        }

        /** Whether the connection can still run commands (the guest may have ended it). */
        public boolean isOpen() {
            return session.isOpen() && !session.isClosing();
        }

        /** Runs {@code command} with {@code in} (may be null) as its standard input; returns its exit status. */
        public int exec(String command, java.io.InputStream in, OutputStream out, OutputStream err, Duration timeout) throws IOException {
            Instant deadline = Instant.now().plus(timeout);
            try (ChannelExec channel = session.createExecChannel(command)) {
                // MINA closes the streams it is given when the channel closes; the caller's
                // streams (often System.out/err) must outlive one command.
                channel.setOut(new KeepOpen(out));
                channel.setErr(new KeepOpen(err));
                if (in != null) {
                    channel.setIn(in);
                }
                channel.setRedirectErrorStream(false);
                channel.open().verify(remaining(deadline));
                Set<ClientChannelEvent> events = channel.waitFor(
                        EnumSet.of(ClientChannelEvent.CLOSED, ClientChannelEvent.EXIT_STATUS), remaining(deadline));
                if (events.contains(ClientChannelEvent.TIMEOUT)) {
                    throw new IOException("'" + command + "' on " + target.endpoint() + " did not finish within " + timeout);
                }
                channel.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), Duration.ofSeconds(2));
                Integer status = channel.getExitStatus();
                if (status == null) {
                    throw new IOException("'" + command + "' on " + target.endpoint() + " ended without an exit status"
                            + (channel.getExitSignal() == null ? "" : " (signal " + channel.getExitSignal() + ")"));
                }
                return status;
            }
        }

        /**
         * Starts {@code command} and returns at once with its stdio as streams (see {@link GuestProcess}),
         * its standard error copied to {@code err} (which stays open). On failure nothing is left open.
         */
        public GuestProcess start(String command, OutputStream err, Duration timeout) throws IOException {
            ChannelExec channel = session.createExecChannel(command);
            try {
                channel.setErr(new KeepOpen(err));
                channel.setRedirectErrorStream(false);
                channel.open().verify(timeout);
                return new GuestProcess(channel, command);
            } catch (IOException | RuntimeException e) {
                channel.close(true);
                throw new IOException("cannot start '" + command + "' on " + target.endpoint() + ": " + e.getMessage(), e);
            }
        }

        /**
         * Connects to {@code port} of the guest's loopback through this session (SSH direct
         * port forwarding, which sshd allows by default): a process in the guest that listens
         * there, reached without a port on the host and without a command run for it. On
         * failure (nothing listens, forwarding refused) nothing is left open.
         */
        public GuestProcess forward(int port, Duration timeout) throws IOException {
            org.apache.sshd.common.util.net.SshdSocketAddress loopback = new org.apache.sshd.common.util.net.SshdSocketAddress("127.0.0.1", port);
            ChannelDirectTcpip channel = session.createDirectTcpipChannel(
                    new org.apache.sshd.common.util.net.SshdSocketAddress("127.0.0.1", 0), loopback);
            try {
                channel.open().verify(timeout);
                return new GuestProcess(channel, "connection to the guest's 127.0.0.1:" + port);
            } catch (IOException | RuntimeException e) {
                channel.close(true);
                throw new IOException("cannot connect to the guest's 127.0.0.1:" + port + " through " + target.endpoint()
                        + ": " + e.getMessage(), e);
            }
        }

        @Override
        public void close() {
            if (owner) {
                session.close(true);
            }
        }
    }

    /**
     * Makes each of {@code ports} of this host's 127.0.0.1 reachable at the same port of the
     * guest's 127.0.0.1, through one SSH session (remote port forwarding: sshd in the guest
     * listens, the engine connects on the host), for as long as the returned handle is open.
     * Nothing is routed: a guest gets exactly these ports of the host, and only while the VM's
     * session lives. The session never times out for idleness; closing the handle ends it.
     */
    public AutoCloseable relayHostPorts(Target target, java.util.List<Integer> ports, Duration timeout) throws IOException {
        ClientSession session = open(target, timeout);
        try {
            org.apache.sshd.core.CoreModuleProperties.IDLE_TIMEOUT.set(session, Duration.ZERO);
            session.setAttribute(RELAYED, java.util.Set.copyOf(ports));
            for (int port : ports) {
                org.apache.sshd.common.util.net.SshdSocketAddress loopback = new org.apache.sshd.common.util.net.SshdSocketAddress("127.0.0.1", port);
                session.startRemotePortForwarding(loopback, loopback);
            }
        } catch (IOException | RuntimeException e) {
            session.close(true);
            throw new IOException("cannot relay host ports " + ports + " into " + target.endpoint() + ": " + e.getMessage(), e);
        }
        return new AutoCloseable() {
            @Override
            public void close() {
                session.close(true);
            }

            @Override
            public String toString() {
                return "relay of host ports " + ports + " into " + target.endpoint();
            }
        };
    }

    private ClientSession open(Target target, Duration timeout) throws IOException {
        Instant deadline = Instant.now().plus(timeout);
        AtomicReference<PublicKey> offered = new AtomicReference<>();
        AttributeRepository context = AttributeRepository.ofAttributesMap(java.util.Map.of(PINNED, target.hostKey(), OFFERED, offered));
        ConnectFuture connect = client.connect(target.user(), target.host(), target.port(), context);
        ClientSession session = connect.verify(remaining(deadline)).getSession();
        try {
            session.addPublicKeyIdentity(target.clientKey().keyPair());
            session.auth().verify(remaining(deadline));
            return session;
        } catch (IOException e) {
            session.close(true);
            PublicKey seen = offered.get();
            if (seen != null && !KeyUtils.compareKeys(target.hostKey(), seen)) {
                throw new HostKeyMismatchException(target.endpoint(), KeyUtils.getFingerPrint(target.hostKey()), KeyUtils.getFingerPrint(seen));
            }
            throw e;
        }
    }

    private static Duration shorter(Duration a, Duration b) {
        return a.compareTo(b) < 0 ? a : b;
    }

    private static Duration remaining(Instant deadline) {
        Duration d = Duration.between(Instant.now(), deadline);
        return d.isNegative() || d.isZero() ? Duration.ofMillis(1) : d;
    }

    @Override
    public void close() throws IOException {
        client.stop();
    }

    /** Passes writes through and turns close into flush. */
    private static final class KeepOpen extends java.io.FilterOutputStream {
        KeepOpen(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            out.flush();
        }
    }
}
