package io.jenkins.plugins.qemu.engine.cli;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.config.Validation;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.usage.MetricsFile;
import io.jenkins.plugins.qemu.engine.usage.ProvisioningMetrics;
import io.jenkins.plugins.qemu.engine.usage.TimingWindow;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code metrics [--state-dir DIR]}: the provisioning counters each owner of a state directory
 * left there (see {@link MetricsFile}): VMs provisioned cold and warm, failures by phase, time to
 * online and from queue to first step (median, p95, max over the last 1024), VMs running per
 * template, orphans reaped. The same names the Jenkins metrics plugin shows under
 * {@code qemu-agents.}. Read-only; exits 0, or 1 when a file could not be read.
 */
final class MetricsCommand {
    private MetricsCommand() {}

    static String usage() {
        return String.join("\n",
                "usage: qemu-agents metrics [--state-dir DIR]",
                "  Shows the provisioning counters the owners of a state directory (a",
                "  controller's clouds) left there: VMs provisioned cold and warm, failures by",
                "  phase, time to online and from queue to first step (median, p95, max),",
                "  VMs running per template, orphans reaped.");
    }

    static int run(List<String> args, PrintStream out, PrintStream err) {
        Path stateDir = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.equals("--state-dir") || i + 1 >= args.size()) {
                throw new InvalidInputException("argument", a, "is not understood by 'metrics' (option: --state-dir DIR)");
            }
            stateDir = Validation.directory("--state-dir", args.get(++i));
        }
        EngineConfig config = EngineConfig.defaults(null, "cli-metrics-" + ProcessHandle.current().pid());
        Path dir = stateDir != null ? stateDir : config.stateDir();
        List<String> unreadable = new ArrayList<>();
        Map<String, ProvisioningMetrics.Snapshot> all;
        try {
            all = MetricsFile.readAll(dir, unreadable);
        } catch (IOException e) {
            err.println("qemu-agents: cannot list the metrics of " + dir + ": " + e.getMessage());
            return 1;
        }
        out.print(format(all, Instant.now()));
        unreadable.forEach(u -> err.println("qemu-agents: " + u));
        out.flush();
        return unreadable.isEmpty() ? 0 : 1;
    }

    static String format(Map<String, ProvisioningMetrics.Snapshot> all, Instant now) {
        if (all.isEmpty()) {
            return "no metrics (nothing was provisioned through this state directory yet)\n";
        }
        StringBuilder b = new StringBuilder();
        all.forEach((file, s) -> {
            b.append(String.format(Locale.ROOT, "%s (%s): counted since %s, written %s ago%n", s.source(), file, s.since(),
                    PsCommand.age(Duration.between(s.at(), now))));
            s.counters().forEach((name, v) -> b.append(String.format(Locale.ROOT, "  %-44s %8d%n", name, v)));
            s.timings().forEach((name, t) -> b.append(String.format(Locale.ROOT, "  %-44s %8d  %s%n", name, t.count(), timing(t))));
            s.running().forEach((template, n) -> b.append(String.format(Locale.ROOT, "  %-44s %8d%n",
                    ProvisioningMetrics.RUNNING + ".template." + template, n)));
        });
        return b.toString();
    }

    private static String timing(TimingWindow.Summary t) {
        return String.format(Locale.ROOT, "median %.1f s, p95 %.1f s, max %.1f s (last %d)", t.medianMillis() / 1000.0,
                t.p95Millis() / 1000.0, t.maxMillis() / 1000.0, t.window());
    }
}
