package io.jenkins.plugins.qemu.engine.cli;

import io.jenkins.plugins.qemu.engine.QemuEngine;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.config.Validation;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.net.EgressPolicy;
import io.jenkins.plugins.qemu.engine.usage.VmUsage;
import io.jenkins.plugins.qemu.engine.vm.Accel;
import io.jenkins.plugins.qemu.engine.vm.Phase;
import io.jenkins.plugins.qemu.engine.vm.PhaseTimings;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import io.jenkins.plugins.qemu.engine.vm.VmBootException;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
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
 * {@code run}: one VM, one command, nothing left afterwards. A shutdown hook destroys the VM if
 * the user presses Ctrl-C mid-boot or mid-command.
 */
final class RunCommand {
    private final Options options;
    private final PrintStream out;
    private final PrintStream err;

    RunCommand(Options options, PrintStream out, PrintStream err) {
        this.options = options;
        this.out = out;
        this.err = err;
    }

    /** Parsed and validated arguments of {@code run}. */
    record Options(VmSpec spec, Path imagesDir, Path stateDir, List<String> command) {
        static Options parse(List<String> args) {
            VmSpec.Builder b = VmSpec.builder();
            Path imagesDir = null;
            Path stateDir = null;
            List<String> command = new ArrayList<>();
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                if (a.equals("--")) {
                    command.addAll(args.subList(i + 1, args.size()));
                    break;
                }
                if (a.equals("--keep-console")) {
                    b.keepConsole(true);
                    continue;
                }
                if (a.equals("--warm")) {
                    b.warmStart(true);
                    continue;
                }
                if (!a.startsWith("--") || i + 1 >= args.size()) {
                    throw new InvalidInputException("argument", a, "is not understood (options take a value; the command follows '--')");
                }
                String v = args.get(++i);
                switch (a) {
                    case "--image": b.image(v); break;
                    case "--cpus": b.cpus(Validation.cpus("--cpus", v)); break;
                    case "--memory": b.memoryMiB(Validation.memoryMiB("--memory", v)); break;
                    case "--disk": b.diskSizeMiB(Validation.diskSizeMiB("--disk", v)); break;
                    case "--timeout": b.bootTimeout(Validation.duration("--timeout", v)); break;
                    case "--machine": b.machine(v); break;
                    case "--user": b.user(v); break;
                    case "--accel": b.accel(accel(v)); break;
                    case "--egress": b.egress(EgressPolicy.parse("--egress", v)); break;
                    case "--images-dir": imagesDir = Validation.directory("--images-dir", v); break;
                    case "--state-dir": stateDir = Validation.directory("--state-dir", v); break;
                    default: throw new InvalidInputException("option", a, "is not a known option of 'run'");
                }
            }
            if (command.isEmpty()) {
                throw new InvalidInputException("command", "", "is missing: put the command to run after '--'");
            }
            return new Options(b.build(), imagesDir, stateDir, command);
        }

        private static Accel accel(String v) {
            try {
                return Accel.valueOf(v.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException("--accel", v, "must be auto, kvm or tcg");
            }
        }
    }

    int call() {
        EngineConfig config = EngineConfig.defaults(options.imagesDir(), "cli-" + ProcessHandle.current().pid());
        if (options.stateDir() != null) {
            config = config.withStateDir(options.stateDir());
        }
        Instant requested = Instant.now();
        try (QemuEngine engine = new QemuEngine(config)) {
            Thread hook = new Thread(engine::destroyAll, "qemu-agents-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                Vm vm;
                try {
                    if (options.spec().warmStart()) {
                        // A CLI run ends with its command, so a snapshot built in the background would
                        // die with it; build it now (once per template) and restore from it.
                        Instant t = Instant.now();
                        try {
                            engine.prepareWarmSnapshot(options.spec());
                            err.println("qemu-agents: warm snapshot ready after " + PhaseTimings.millis(Duration.between(t, Instant.now())));
                        } catch (IOException e) {
                            err.println("qemu-agents: no warm snapshot (" + e.getMessage() + "); booting cold");
                        }
                    }
                    // No progress listener: the engine's log records reach stderr already, and the
                    // same line twice helps nobody.
                    vm = engine.boot(options.spec(), null);
                } catch (VmBootException e) {
                    err.println("qemu-agents: " + e.getMessage());
                    return Main.BOOT_FAILED;
                }
                Instant cmdStart = Instant.now();
                int rc;
                try {
                    rc = vm.exec(shellJoin(options.command()), out, err, Duration.ofHours(24));
                } finally {
                    out.flush();
                    Duration cmd = Duration.between(cmdStart, Instant.now());
                    vm.destroy();
                    report(vm, cmd, Duration.between(requested, Instant.now()));
                }
                return rc;
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // The hook is running already and will clean up.
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("qemu-agents: interrupted");
            return Main.BOOT_FAILED;
        } catch (IOException e) {
            err.println("qemu-agents: " + e.getMessage());
            return Main.BOOT_FAILED;
        }
    }

    private void report(Vm vm, Duration command, Duration total) {
        err.println("phase timings for " + vm.id() + " (" + vm.accelerator().accel() + "):");
        for (Map.Entry<Phase, Duration> e : vm.timings().asMap().entrySet()) {
            err.printf("  %-14s %8s%n", e.getKey().name().toLowerCase(Locale.ROOT), PhaseTimings.millis(e.getValue()));
        }
        err.printf("  %-14s %8s%n", "time-to-online", PhaseTimings.millis(vm.timings().timeToOnline()));
        err.printf("  %-14s %8s%n", "command", PhaseTimings.millis(command));
        err.printf("  %-14s %8s%n", "total", PhaseTimings.millis(total));
        // Read as the destroy began, so the command's whole work is in it (README: "What a VM used").
        VmUsage u = vm.usage();
        err.println("usage of " + vm.id() + ": " + (u == null ? "not read" : u.summary()));
    }

    /** The remote side runs a login shell; quote each word so arguments arrive as given. */
    static String shellJoin(List<String> words) {
        if (words.size() == 1) {
            return words.get(0); // a single word may be a whole shell snippet, e.g. 'uname -a && id'
        }
        StringBuilder b = new StringBuilder();
        for (String w : words) {
            if (b.length() > 0) {
                b.append(' ');
            }
            b.append(w.matches("[A-Za-z0-9_@%+=:,./-]+") ? w : "'" + w.replace("'", "'\\''") + "'");
        }
        return b.toString();
    }
}
