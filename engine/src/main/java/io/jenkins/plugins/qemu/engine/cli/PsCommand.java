package io.jenkins.plugins.qemu.engine.cli;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.config.Validation;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.state.ProcFs;
import io.jenkins.plugins.qemu.engine.state.StateStore;
import io.jenkins.plugins.qemu.engine.state.VmDir;
import io.jenkins.plugins.qemu.engine.state.VmRecord;
import io.jenkins.plugins.qemu.engine.usage.ProcReader;
import io.jenkins.plugins.qemu.engine.usage.UsageFile;
import io.jenkins.plugins.qemu.engine.usage.UsageProbe;
import io.jenkins.plugins.qemu.engine.usage.VmUsage;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code ps [--state-dir DIR]}: the VMs recorded in a state directory, whichever process owns
 * them, with their age, image, template, phase, forwarded SSH port, owner and what they use. Read-only: it
 * reads the records and {@code /proc} of each QEMU, and never connects to a VM's QMP monitor,
 * which its owner holds (QEMU serves one client per monitor), nor logs in to its guest. The
 * guest's memory and network, which only the owner reads through those, are its last sample's,
 * which it leaves in the VM's folder ({@link UsageFile}, at most one 15 s tick old); the guest's
 * disk writes are not shown. Exits 0, or 1 when a record could not be read.
 */
final class PsCommand {
    private final StateStore store;
    private final ProcFs proc;
    private final UsageProbe probe;
    private final Clock clock;

    PsCommand(StateStore store, ProcFs proc, UsageProbe probe, Clock clock) {
        this.store = store;
        this.proc = proc;
        this.probe = probe;
        this.clock = clock;
    }

    static String usage() {
        return String.join("\n",
                "usage: qemu-agents ps [--state-dir DIR]",
                "  Lists the VMs of a state directory, of any owner: id, age, image, template",
                "  (the plugin's template a VM was booted for; - for none), phase,",
                "  SSH port on 127.0.0.1, owner, and usage read from /proc of their QEMU",
                "  (vCPU and QEMU CPU time, host RSS now and at its peak, overlay file size),",
                "  and the guest's memory in use, its peak, and network bytes in and out as",
                "  the VM's owner last sampled them (n/a where it has not).");
    }

    static int run(List<String> args, PrintStream out, PrintStream err) {
        Path stateDir = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.equals("--state-dir") || i + 1 >= args.size()) {
                throw new InvalidInputException("argument", a,
                        "is not understood by 'ps' (option: --state-dir DIR)");
            }
            stateDir = Validation.directory("--state-dir", args.get(++i));
        }
        String owner = "cli-ps-" + ProcessHandle.current().pid();
        EngineConfig config = EngineConfig.defaults(null, owner);
        if (stateDir != null) {
            config = config.withStateDir(stateDir);
        }
        Clock clock = Clock.systemUTC();
        UsageProbe probe = new UsageProbe(new ProcReader(), clock);
        return new PsCommand(new StateStore(config.stateDir()), new ProcFs(), probe, clock).print(out, err);
    }

    /** One listed VM; {@code usage} is null when its QEMU does not run. */
    record Row(String vmId, Duration age, String image, String template, String phase, int port, String owner,
            VmUsage usage) {}

    int print(PrintStream out, PrintStream err) {
        List<String> unreadable = new ArrayList<>();
        List<Row> rows;
        try {
            rows = rows(unreadable);
        } catch (IOException e) {
            err.println("qemu-agents: cannot list " + store.stateDir() + ": " + e.getMessage());
            return 1;
        }
        out.print(format(rows));
        unreadable.forEach(err::println);
        out.flush();
        return unreadable.isEmpty() ? 0 : 1;
    }

    List<Row> rows(List<String> unreadable) throws IOException {
        Instant now = clock.instant();
        String bootId = proc.bootId();
        List<Row> rows = new ArrayList<>();
        for (Path dir : store.vmDirs()) {
            VmRecord r;
            try {
                var read = store.read(dir);
                if (read.isEmpty()) {
                    continue; // no record yet, or a leftover the reaper handles
                }
                r = read.get();
            } catch (IOException e) {
                unreadable.add("qemu-agents: " + e.getMessage());
                continue;
            }
            VmUsage u = null;
            if (bootId.equals(r.bootId()) && r.qemuPid() > 0) {
                try {
                    u = probe.sample(r.qemuPid(), r.qemuStartTime(), null, Path.of(r.overlay()),
                            VmUsage.UNKNOWN);
                    u = u == null ? null : u.withGuestFiguresOf(UsageFile.read(dir.resolve(VmDir.USAGE)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
            }
            String owner = r.ownerId() + (r.owner().isAlive(proc, bootId) ? "" : " (gone)");
            String image = r.image() == null ? "?" : r.image();
            String template = r.template() == null ? "-" : r.template();
            rows.add(new Row(r.vmId(), Duration.between(r.created(), now), image, template, phase(r, u != null),
                    r.sshPort(), owner, u));
        }
        return rows;
    }

    /**
     * What the record and the process say. The record is written as QEMU starts and again when its
     * port is known, not at the login, so "running" means QEMU runs with its port forwarded; the
     * guest may still be booting.
     */
    static String phase(VmRecord r, boolean qemuRuns) {
        if (r.qemuPid() <= 0) {
            return "preparing";
        }
        if (!qemuRuns) {
            return "exited";
        }
        if (r.sshPort() <= 0) {
            return "starting";
        }
        return r.released() ? "released" : "running";
    }

    private static final String[] HEADER = {"VM", "AGE", "IMAGE", "TEMPLATE", "PHASE", "PORT", "OWNER", "VCPU", "QEMU-CPU", "RSS",
        "PEAK-RSS", "OVERLAY", "GUEST-MEM", "GUEST-PEAK", "NET-IN", "NET-OUT"};
    /** Columns of numbers, aligned right; the rest are names, aligned left. */
    private static final Set<Integer> NUMBERS = Set.of(1, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15);

    /** The table, each column as wide as its widest cell, so a long owner id or template name never shifts the others. */
    static String format(List<Row> rows) {
        if (rows.isEmpty()) {
            return "no VMs\n";
        }
        List<String[]> lines = new ArrayList<>();
        lines.add(HEADER);
        for (Row r : rows) {
            lines.add(cells(r));
        }
        int[] width = new int[HEADER.length];
        for (String[] l : lines) {
            for (int i = 0; i < l.length; i++) {
                width[i] = Math.max(width[i], l[i].length());
            }
        }
        StringBuilder b = new StringBuilder();
        for (String[] l : lines) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < l.length; i++) {
                String pad = " ".repeat(width[i] - l[i].length());
                line.append(i == 0 ? "" : " ").append(NUMBERS.contains(i) ? pad + l[i] : l[i] + pad);
            }
            b.append(line.toString().stripTrailing()).append('\n');
        }
        return b.toString();
    }

    private static String[] cells(Row r) {
        VmUsage u = r.usage();
        return new String[] {r.vmId(), age(r.age()), r.image(), r.template(), r.phase(), r.port() > 0 ? String.valueOf(r.port()) : "-",
            r.owner(), u == null ? "-" : seconds(u.vcpuNanos()), u == null ? "-" : seconds(u.qemuCpuNanos()),
            u == null ? "-" : mib(u.rssBytes()), u == null ? "-" : mib(u.peakRssBytes()), u == null ? "-" : mib(u.overlayBytes()),
            u == null ? "-" : mib(u.guestMemUsedBytes()), u == null ? "-" : mib(u.guestMemPeakBytes()),
            u == null ? "-" : mib(u.netRxBytes()), u == null ? "-" : mib(u.netTxBytes())};
    }

    static String age(Duration d) {
        long s = Math.max(0, d.toSeconds());
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60);
    }

    private static String seconds(long nanos) {
        return nanos == VmUsage.UNKNOWN ? "n/a" : String.format(Locale.ROOT, "%.1fs", nanos / 1e9);
    }

    private static String mib(long bytes) {
        return bytes == VmUsage.UNKNOWN ? "n/a" : String.format(Locale.ROOT, "%.0fM", bytes / 1048576.0);
    }
}
