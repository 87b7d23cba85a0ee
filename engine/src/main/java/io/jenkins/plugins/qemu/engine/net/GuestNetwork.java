package io.jenkins.plugins.qemu.engine.net;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * The network of one VM under its {@link EgressPolicy}, and the owner of its helper process.
 * The guest's first NIC is always QEMU's user-mode network with {@code restrict=on}: it carries
 * the SSH forward (QEMU binds it on 127.0.0.1 itself, port 0, so there is no race) and nothing
 * else; the guest cannot reach the host through it, nor anything beyond. With internet egress a
 * second NIC is connected to a passt of the VM's own, which connects out for the guest but never
 * to the host (see {@link PasstProcess}); the engine gives that NIC its address and the default
 * route over SSH once the guest is up ({@link #guestSetup}). The first NIC keeps the addresses
 * the image configures statically (10.0.2.15/24), so images need no change. Host ports the
 * policy allows are not routed at all: the VM relays them over its SSH connection.
 */
public final class GuestNetwork implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(GuestNetwork.class.getName());
    /** The egress NIC's subnet, distinct from the SSH NIC's 10.0.2.0/24 so the guest routes each on its own link. */
    static final String EGRESS_MAC = "52:54:00:12:34:57";
    static final String EGRESS_GUEST = "10.0.3.15";
    static final String EGRESS_GATEWAY = "10.0.3.2";
    static final String EGRESS_DNS = "10.0.3.3";

    private final EgressPolicy policy;
    private final Path socket;
    private final Path stderr;
    private final Path passt;
    private final String vmId;
    private final Object lock = new Object();
    private PasstProcess helper; // guarded by lock
    private boolean closed; // guarded by lock

    /** {@code socket} and {@code stderr}: passt's socket and log, inside the VM's owner-only folder. */
    public GuestNetwork(EgressPolicy policy, Path socket, Path stderr, Path passtBinary, String vmId) {
        this.policy = policy;
        this.socket = socket;
        this.stderr = stderr;
        this.passt = passtBinary;
        this.vmId = vmId;
    }

    /** Whether this policy needs the passt helper. */
    public static boolean usesHelper(EgressPolicy policy) {
        return policy.internet();
    }

    /**
     * The backend, as part of a warm snapshot's identity: QEMU saves user-mode network state with
     * the machine, so a snapshot taken with one backend does not restore on the other.
     */
    public static String backend(EgressPolicy policy) {
        return usesHelper(policy) ? "passt" : "user,restrict=on";
    }

    /** QEMU's network options for {@code policy}: the SSH NIC with the guest's fixed MAC, and the egress NIC if any. */
    public static List<String> qemuArgs(EgressPolicy policy, Path passtSocket, String guestMac) {
        // Port 0: QEMU binds a free port itself, so concurrent VMs never race for one; 127.0.0.1 only.
        List<String> ssh = List.of("-netdev", "user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:0-:22",
                "-device", "virtio-net-pci,netdev=net0,mac=" + guestMac);
        if (!usesHelper(policy)) {
            return ssh;
        }
        List<String> a = new ArrayList<>(ssh);
        // QEMU's option parser splits on commas; a literal comma is written twice.
        a.addAll(List.of("-netdev", "stream,id=egress0,server=off,addr.type=unix,addr.path=" + passtSocket.toString().replace(",", ",,"),
                "-device", "virtio-net-pci,netdev=egress0,mac=" + EGRESS_MAC));
        return List.copyOf(a);
    }

    /**
     * The shell command (run as the agent user, with passwordless sudo) that gives the egress NIC
     * its address, the default route and the resolver; null when the policy has no egress NIC.
     * The NIC is found by its MAC, not by name. Idempotent, so a retried login may run it again.
     */
    public static String guestSetup(EgressPolicy policy) {
        if (!usesHelper(policy)) {
            return null;
        }
        return "set -e; i=$(grep -l '^" + EGRESS_MAC + "$' /sys/class/net/*/address | cut -d/ -f5); [ -n \"$i\" ];"
                + " sudo -n sh -c \"ip link set $i up && ip addr replace " + EGRESS_GUEST + "/24 dev $i"
                + " && ip route replace default via " + EGRESS_GATEWAY + " dev $i"
                + " && echo 'nameserver " + EGRESS_DNS + "' > /etc/resolv.conf\"";
    }

    /**
     * The egress NIC as a systemd-networkd .network file, for a guest that takes its network from
     * systemd credentials: address, default route and resolver set at boot, before the login, so
     * the guest need not be configured over SSH afterwards. Null when the policy has no egress NIC.
     */
    public static String networkdEgress(EgressPolicy policy) {
        if (!usesHelper(policy)) {
            return null;
        }
        return "[Match]\nMACAddress=" + EGRESS_MAC + "\n\n[Network]\nAddress=" + EGRESS_GUEST + "/24\nGateway=" + EGRESS_GATEWAY
                + "\nDNS=" + EGRESS_DNS + "\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n";
    }

    /**
     * {@link #guestSetup}, skipped when the guest already has what it sets (its networkd applied
     * {@link #networkdEgress} at boot): the only default route is the egress NIC's, and the resolver
     * in use is systemd-resolved forwarding to the egress DNS alone, or that DNS itself. The check is
     * shell builtins only (read, test), no sudo and no other process: under TCG each exec costs the
     * guest a noticeable fraction of a second right when it is still finishing its boot. A guest
     * that has not got there yet (or has no systemd-resolved) gets the setup as before.
     */
    public static String guestSetupUnlessDone(EgressPolicy policy) {
        String setup = guestSetup(policy);
        if (setup == null) {
            return null;
        }
        return "set -e; i=; for f in /sys/class/net/*/address; do read -r m < \"$f\" || :; [ \"$m\" != '" + EGRESS_MAC
                + "' ] || { i=${f%/address}; i=${i##*/}; }; done; [ -n \"$i\" ];"
                + " ns() { v=; while read -r k a r; do [ \"$k\" != nameserver ] || v=\"$v$a \"; done < \"$1\"; };"
                + " configured() { d=; while read -r n t g r; do [ \"$t\" != 00000000 ] || d=\"$d$n:$g \"; done < /proc/net/route;"
                + " [ \"$d\" = \"$i:" + procRouteHex(EGRESS_GATEWAY) + " \" ] && ns /run/systemd/resolve/resolv.conf && [ \"$v\" = '"
                + EGRESS_DNS + " ' ] && ns /etc/resolv.conf && case \"$v\" in '127.0.0.53 '|'" + EGRESS_DNS + " ') ;; *) false;; esac; };"
                + " if configured 2>/dev/null; then exit 0; fi;" + setup.substring(setup.indexOf(" sudo -n "));
    }

    /** An IPv4 address as /proc/net/route prints it on the little-endian guests we boot (x86-64): the bytes reversed, in hex. */
    static String procRouteHex(String address) {
        String[] b = address.split("\\.");
        StringBuilder h = new StringBuilder();
        for (int k = 3; k >= 0; k--) {
            h.append(String.format("%02X", Integer.parseInt(b[k])));
        }
        return h.toString();
    }

    /**
     * Starts the helper if the policy needs one; QEMU must be started after this returns. The
     * helper's pid goes to {@code started} the moment it exists.
     */
    public void start(Launcher launcher, Launcher.Started started, Instant deadline) throws IOException, InterruptedException {
        if (!usesHelper(policy)) {
            return;
        }
        if (!java.nio.file.Files.isExecutable(passt)) {
            throw new IOException("passt binary " + passt + " is missing or not executable; egress policy '" + policy
                    + "' needs it (Debian/Ubuntu package 'passt'), or use egress policy 'none'");
        }
        PasstProcess p = PasstProcess.start(passt, socket, stderr, launcher, pid -> {
            synchronized (lock) {
                if (closed) {
                    throw new InterruptedException("cancelled");
                }
            }
            started.started(pid);
        }, deadline);
        synchronized (lock) {
            if (!closed) {
                helper = p;
                LOG.fine(() -> "[" + vmId + "] " + p + " serves " + socket);
                return;
            }
        }
        p.close();
        throw new InterruptedException("cancelled");
    }

    /** The helper's pid, or -1 without one. */
    public long helperPid() {
        synchronized (lock) {
            return helper == null ? -1 : helper.pid();
        }
    }

    /** Why the network is not there any more, for a boot error; null while it is. */
    public String failure() {
        synchronized (lock) {
            if (helper == null || helper.isAlive()) {
                return null;
            }
        }
        String err = PasstProcess.tail(stderr);
        return "passt exited" + (err.isEmpty() ? "" : ": " + err);
    }

    public EgressPolicy policy() {
        return policy;
    }

    /** Kills the helper and waits for it; call after QEMU is gone. Idempotent. */
    @Override
    public void close() throws InterruptedException {
        PasstProcess p;
        synchronized (lock) {
            closed = true;
            p = helper;
            helper = null;
        }
        if (p != null) {
            p.close();
        }
    }

    @Override
    public String toString() {
        PasstProcess p;
        synchronized (lock) {
            p = helper;
        }
        return "network " + policy + (p == null ? "" : " via " + p);
    }
}
