package io.jenkins.plugins.qemu.engine.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Turns samples into the one table the benchmark prints (medians, p95, max and the ratio of each
 * median to the baseline's), plus CSV and JSON files from which a chart or a README table is made.
 */
public final class BenchReport {
    private double snapshotBuild = Double.NaN;
    private final Map<String, List<Sample>> byConfig = new LinkedHashMap<>();

    public void add(List<Sample> samples) {
        for (Sample s : samples) {
            byConfig.computeIfAbsent(s.config(), k -> new ArrayList<>()).add(s);
        }
    }

    public Stats online(String config) {
        return stats(config, Sample::online);
    }

    private Stats stats(String config, ToDoubleFunction<Sample> f) {
        List<Double> v = new ArrayList<>();
        for (Sample s : byConfig.getOrDefault(config, List.of())) {
            if (s.ok()) {
                v.add(f.applyAsDouble(s));
            }
        }
        return Stats.of(v);
    }

    private Stats phase(String config, String phase) {
        return stats(config, s -> s.phases().getOrDefault(phase, Double.NaN));
    }

    /** Seconds the one-off warm-snapshot build took (or found it current), shown under the table. */
    public void snapshotBuild(double seconds) {
        snapshotBuild = seconds;
    }

    public String table() {
        double base = online("baseline").median();
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%-20s %3s %4s | %-22s %6s | %7s %7s %7s %8s %8s | %7s | %7s %8s%n",
                "config", "ok", "fail", "online med/p95/max (s)", "ratio", "console", "cloudi.", "qemu+",
                "restore+", "ssh wait", "destroy", "RSS MiB", "overlay"));
        for (Map.Entry<String, List<Sample>> e : byConfig.entrySet()) {
            String c = e.getKey();
            long ok = e.getValue().stream().filter(Sample::ok).count();
            long fail = e.getValue().size() - ok;
            Stats on = online(c);
            Stats destroy = stats(c, Sample::destroy);
            double prep = sum(c, "prepare", "overlay", "seed", "qemu_start", "qmp", "port");
            b.append(String.format(Locale.ROOT, "%-20s %3d %4d | %6.1f / %5.1f / %5.1f %6s | %7s %7s %7s %8s %8s | %7s | %7s %8s%n",
                    c, ok, fail, on.median(), on.p95(), on.max(), ratio(on.median(), base),
                    num(stats(c, Sample::firstConsole).median()), num(stats(c, Sample::cloudInitDone).median()),
                    num(prep), num(sum(c, "restore", "identity")), num(phase(c, "ssh").median()),
                    num(destroy.median()),
                    c.equals("baseline") ? "-" : num(stats(c, s -> s.rssKiB() / 1024.0).median()),
                    c.equals("baseline") ? "-" : mib(stats(c, s -> (double) s.overlayBytes()).median())));
        }
        b.append("online: request to verified SSH login; ratio: median / baseline median; console: first guest console byte;\n")
                .append("cloudi.: cloud-init finished; qemu+: overlay+seed+QEMU start+QMP+port (engine only);\n")
                .append("restore+: loading the warm snapshot + handing the clone its identity; ssh wait: the SSH phase\n")
                .append("(QEMU start to login for a cold boot, identity to login for a restore);\n")
                .append("destroy: seconds; RSS: QEMU's resident memory when online; overlay: MiB after boot; all but online are medians.\n");
        b.append(agentTable());
        if (!Double.isNaN(snapshotBuild)) {
            b.append(String.format(Locale.ROOT, "warm snapshot: built once per template in %.1f s before the restore rows (not in any sample).%n",
                    snapshotBuild));
        }
        return b.toString();
    }

    /**
     * The agent workload's phases per config (empty without it): online, the agent jar in place
     * (one SSH connection, a check and, if missing, the copy), the agent as the launcher gets it
     * until it answers, and the whole from the VM request to that answer, each as median / p95
     * seconds; then, same VM, a fresh JVM with and without the archive for comparison.
     */
    String agentTable() {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, List<Sample>> e : byConfig.entrySet()) {
            String c = e.getKey();
            Stats jvm = phase(c, "agent_jvm");
            if (jvm.n() == 0) {
                continue;
            }
            if (b.isEmpty()) {
                b.append(String.format(Locale.ROOT, "%n%-20s %3s | %-13s | %-13s | %-13s | %-13s | %-13s | %-13s | %6s | %6s | %7s%n",
                        "agent workload", "ok", "online", "jar in place", "agent answers", "request->ans.", "fresh JVM+CDS", "JVM w/o CDS",
                        "pre", "copied", "RSS MiB"));
            }
            Stats total = stats(c, s -> s.online() + s.phases().getOrDefault("agent_jar", Double.NaN)
                    + s.phases().getOrDefault("agent_jvm", Double.NaN));
            b.append(String.format(Locale.ROOT, "%-20s %3d | %s | %s | %s | %s | %s | %s | %6s | %6s | %7s%n", c, jvm.n(), medP95(online(c)),
                    medP95(phase(c, "agent_jar")), medP95(jvm), medP95(total), medP95(phase(c, "agent_jvm_cds")),
                    medP95(phase(c, "agent_jvm_plain")), num(sum(c, "agent_prestarted")), num(sum(c, "agent_copied")),
                    num(phase(c, "agent_rss_mib").median())));
        }
        if (!b.isEmpty()) {
            b.append("seconds as median / p95, over the VM's own SSH connection; jar in place: check and copy, nothing for a clone of a\n")
                    .append("snapshot that carries it ('copied': median of 1 = copied); agent answers: the agent as the launcher gets it, a warm\n")
                    .append("clone's pre-started one ('pre': median of 1 = pre-started) or else java -jar with the CDS archive, until its first\n")
                    .append("line on stdout; request->ans.: VM request to that line; fresh JVM+CDS: java -jar with the archive, same VM; JVM w/o\n")
                    .append("CDS: the same without it (Jenkins' plain java -jar); RSS: QEMU's after the JVMs ran.\n");
        }
        return b.toString();
    }

    private static String medP95(Stats s) {
        return String.format(Locale.ROOT, "%5s / %5s", num(s.median()), num(s.p95()));
    }

    private double sum(String config, String... phases) {
        double total = 0;
        for (String p : phases) {
            double m = phase(config, p).median();
            if (Double.isNaN(m)) {
                return Double.NaN;
            }
            total += m;
        }
        return total;
    }

    private static String num(double d) {
        return Double.isNaN(d) ? "-" : String.format(Locale.ROOT, "%.2f", d);
    }

    private static String mib(double bytes) {
        return Double.isNaN(bytes) ? "-" : String.format(Locale.ROOT, "%.0f", bytes / (1024 * 1024));
    }

    private static String ratio(double v, double base) {
        return Double.isNaN(v) || Double.isNaN(base) || base == 0 ? "-" : String.format(Locale.ROOT, "%.2fx", v / base);
    }

    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        StringBuilder csv = new StringBuilder("config,index,ok,online_s,first_console_s,cloud_init_done_s,destroy_s,rss_kib,overlay_bytes,error\n");
        List<Sample> all = new ArrayList<>();
        byConfig.values().forEach(all::addAll);
        for (Sample s : all) {
            csv.append(String.join(",", s.config(), Integer.toString(s.index()), Boolean.toString(s.ok()),
                    num(s.online()), num(s.firstConsole()), num(s.cloudInitDone()), num(s.destroy()),
                    Long.toString(s.rssKiB()), Long.toString(s.overlayBytes()),
                    s.error() == null ? "" : '"' + s.error().replace('"', '\'').replace('\n', ' ') + '"')).append('\n');
        }
        Files.writeString(dir.resolve("bench.csv"), csv, StandardCharsets.UTF_8);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(dir.resolve("bench.json").toFile(), all);
        Files.writeString(dir.resolve("bench.txt"), table(), StandardCharsets.UTF_8);
    }
}
