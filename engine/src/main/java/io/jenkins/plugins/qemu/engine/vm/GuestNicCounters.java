package io.jenkins.plugins.qemu.engine.vm;

import io.jenkins.plugins.qemu.engine.ssh.GuestSsh;
import io.jenkins.plugins.qemu.engine.usage.NicCounters;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Reads the guest's NIC byte counters ({@code /sys/class/net/NIC/statistics}) over the VM's kept
 * SSH connection, for its usage figures. Only NICs backed by a device count, that is the ones
 * QEMU gave the guest, not loopback or the bridges and veth pairs a container runtime adds, whose
 * frames also cross a real NIC. The command runs in the login shell with builtins only, so the
 * guest starts no program for it; without the kept connection nothing is read, since a new login
 * costs the guest a key exchange every sample.
 */
final class GuestNicCounters implements NicCounters {
    private static final Logger LOG = Logger.getLogger(GuestNicCounters.class.getName());
    static final String COMMAND = "r=0 t=0; for d in /sys/class/net/*; do [ -e \"$d/device\" ] || continue;"
            + " read a < \"$d/statistics/rx_bytes\" && read b < \"$d/statistics/tx_bytes\" || exit 1;"
            + " r=$((r + a)) t=$((t + b)); done; echo \"$r $t\"";
    /** A guest that does not answer this fast is too busy; its destroy must not wait on figures. */
    private static final Duration TIMEOUT = Duration.ofSeconds(3);

    private final Supplier<GuestSsh.Connection> session;

    /** {@code session}: the VM's kept connection, borrowed (closing it leaves it open), or null. */
    GuestNicCounters(Supplier<GuestSsh.Connection> session) {
        this.session = session;
    }

    @Override
    public Totals read() {
        GuestSsh.Connection c = session.get();
        if (c == null) {
            return null;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (c) {
            int status = c.exec(COMMAND, null, out, OutputStream.nullOutputStream(), TIMEOUT);
            return status == 0 ? parse(out.toString(StandardCharsets.US_ASCII)) : null;
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.FINE, "reading the guest's NIC counters failed", e);
            return null;
        }
    }

    /** "RX TX" as the command prints it; null for anything else. */
    static Totals parse(String output) {
        String[] w = output.strip().split(" ");
        try {
            return w.length == 2 ? new Totals(Long.parseLong(w[0]), Long.parseLong(w[1])) : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
