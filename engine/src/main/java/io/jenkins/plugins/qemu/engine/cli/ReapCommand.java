package io.jenkins.plugins.qemu.engine.cli;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.config.Validation;
import io.jenkins.plugins.qemu.engine.reaper.ReapReport;
import io.jenkins.plugins.qemu.engine.reaper.Reaper;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code reap [--dry-run] [--state-dir DIR] [--max-age DUR]}: one reaper pass over a state
 * directory, printing every VM folder found and what was done with it. Exits 0 when nothing had
 * to be skipped, 1 when some VM should have gone but could not safely be touched.
 */
final class ReapCommand {
    private ReapCommand() {}

    static String usage() {
        return String.join("\n",
                "usage: qemu-agents reap [--dry-run] [--state-dir DIR] [--max-age DUR]",
                "  Removes VMs whose owning engine is gone (or older than DUR): kills their QEMU only after",
                "  proving it is theirs, deletes their files, and prints what it found and did.");
    }

    static int run(List<String> args, PrintStream out, PrintStream err) {
        boolean dryRun = false;
        Path stateDir = null;
        Duration maxAge = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--dry-run")) {
                dryRun = true;
                continue;
            }
            if (!a.startsWith("--") || i + 1 >= args.size()) {
                throw new InvalidInputException("argument", a, "is not understood by 'reap' (options: --dry-run, --state-dir DIR, --max-age DUR)");
            }
            String v = args.get(++i);
            switch (a) {
                case "--state-dir": stateDir = Validation.directory("--state-dir", v); break;
                case "--max-age": maxAge = Validation.duration("--max-age", v); break;
                default: throw new InvalidInputException("option", a, "is not a known option of 'reap'");
            }
        }
        EngineConfig config = EngineConfig.defaults(null, "cli-reap-" + ProcessHandle.current().pid());
        if (stateDir != null) {
            config = config.withStateDir(stateDir);
        }
        Reaper reaper = new Reaper(config);
        if (maxAge != null) {
            reaper = reaper.withMaxAge(maxAge);
        }
        out.println("reaping " + config.stateDir() + (maxAge == null ? "" : " (maximum age " + maxAge + ")"));
        ReapReport report = reaper.reap(dryRun);
        out.print(report.format());
        out.flush();
        return report.skipped().isEmpty() ? 0 : 1;
    }
}
