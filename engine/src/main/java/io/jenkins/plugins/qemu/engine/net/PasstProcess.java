package io.jenkins.plugins.qemu.engine.net;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One passt process: the egress of one VM that may reach other machines. It runs in the
 * foreground (so it is our child, not a daemon), serves exactly one QEMU ({@code --one-off}) and
 * exits when that QEMU goes, and it is told not to map the gateway address to the host
 * ({@code --no-map-gw}), which is what keeps the host's loopback out of the guest's reach. It
 * forwards no port into the guest: passt 0.0~git20230309 (Debian 12) never completes an inbound
 * connection (it ignores the guest's SYN-ACK), so SSH comes in on the other NIC.
 * Closing kills it and waits.
 */
final class PasstProcess implements AutoCloseable {
    /** passt's own MAC, the guest's gateway's; pinned so a restored clone's ARP cache stays right. */
    static final String GATEWAY_MAC = "52:55:0a:00:03:02";

    private final Process process;

    private PasstProcess(Process process) {
        this.process = process;
    }

    /** The argv of a passt serving {@code socket}, forwarding DNS to {@code resolvers} (empty: the host's /etc/resolv.conf). */
    static List<String> argv(Path passt, Path socket, String runAs, List<String> resolvers) {
        List<String> a = new ArrayList<>(List.of(passt.toString(),
                "--foreground", "--one-off", "--quiet", "--stderr", "--ipv4-only",
                "--socket", socket.toString(),
                "--address", GuestNetwork.EGRESS_GUEST, "--netmask", "24", "--gateway", GuestNetwork.EGRESS_GATEWAY,
                "--mac-addr", GATEWAY_MAC,
                "--no-map-gw",
                "--dns-forward", GuestNetwork.EGRESS_DNS,
                "--tcp-ports", "none", "--udp-ports", "none"));
        for (String r : resolvers) {
            a.add("--dns");
            a.add(r);
        }
        if (runAs != null) {
            a.add("--runas");
            a.add(runAs);
        }
        return List.copyOf(a);
    }

    /**
     * The resolvers to name to passt. Where /etc/resolv.conf lists only loopback resolvers (the
     * systemd-resolved stub, 127.0.0.53), this passt drops them under --no-map-gw and the guest
     * would have no DNS; the upstream servers the stub itself uses are named instead. Otherwise
     * none: passt reads /etc/resolv.conf itself.
     */
    static List<String> resolvers(Path etcResolvConf, Path upstreamResolvConf) {
        List<String> etc = nameservers(etcResolvConf);
        if (etc.isEmpty() || etc.stream().anyMatch(a -> !a.startsWith("127."))) {
            return List.of();
        }
        return nameservers(upstreamResolvConf).stream().filter(a -> !a.startsWith("127.") && a.indexOf(':') < 0).toList();
    }

    private static List<String> nameservers(Path resolvConf) {
        List<String> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(resolvConf, StandardCharsets.UTF_8)) {
                String[] f = line.strip().split("\\s+");
                if (f.length >= 2 && f[0].equals("nameserver")) {
                    out.add(f[1]);
                }
            }
        } catch (IOException e) {
            // No such file: nothing to name.
        }
        return out;
    }

    /** Starts passt and waits until QEMU can connect to it. */
    static PasstProcess start(Path passt, Path socket, Path stderr, Launcher launcher, Launcher.Started started,
            Instant deadline) throws IOException, InterruptedException {
        List<String> argv = argv(passt, socket, runAs(),
                resolvers(Path.of("/etc/resolv.conf"), Path.of("/run/systemd/resolve/resolv.conf")));
        ProcessBuilder b = new ProcessBuilder()
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(stderr.toFile());
        Process p;
        try {
            p = launcher.start(b, argv);
        } catch (IOException e) {
            throw new IOException("cannot start passt " + passt + " (is the 'passt' package installed?): " + e.getMessage(), e);
        }
        PasstProcess pp = new PasstProcess(p);
        try {
            started.started(p.pid());
            while (!UnixSockets.listening(socket)) {
                if (!p.isAlive()) {
                    String err = tail(stderr);
                    throw new IOException("passt exited with code " + p.exitValue() + " before listening on " + socket
                            + (err.isEmpty() ? "" : ": " + err));
                }
                if (!Instant.now().isBefore(deadline)) {
                    throw new IOException("passt did not listen on " + socket + " in time" + (tail(stderr).isEmpty() ? "" : ": " + tail(stderr)));
                }
                Thread.sleep(2);
            }
            return pp;
        } catch (IOException | InterruptedException | RuntimeException e) {
            pp.close();
            throw e;
        }
    }

    /**
     * As root, passt would switch to "nobody", which clears the parent-death signal (so a killed
     * JVM would leave it behind) and gains nothing: QEMU runs as the same user. Run it as us.
     */
    private static String runAs() throws IOException {
        int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        int gid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:gid");
        return uid == 0 ? uid + ":" + gid : null;
    }

    /** passt's own messages, without the syslog complaints it prints when no syslog is reachable. */
    static String tail(Path stderr) {
        List<String> lines;
        try {
            lines = Files.readAllLines(stderr, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return "";
        } catch (IOException e) {
            return "(cannot read " + stderr + ": " + e.getMessage() + ")";
        }
        List<String> kept = new ArrayList<>();
        for (String l : lines) {
            if (!l.isBlank() && !l.startsWith("Failed to send") && !l.startsWith("Don't run as root")) {
                kept.add(l.strip());
            }
        }
        return String.join("; ", kept.subList(Math.max(0, kept.size() - 5), kept.size()));
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("passt pid " + process.pid() + " did not exit 10 s after SIGKILL");
        }
    }

    @Override
    public String toString() {
        return "passt pid " + process.pid();
    }
}
