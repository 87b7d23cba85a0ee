package io.jenkins.plugins.qemu.engine.cli;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code qemu-agents} command line: {@code run} boots a throw-away VM and runs one command in
 * it; {@code bench}, {@code images}, {@code reap}, {@code ps} (the VMs of a state directory) and
 * {@code metrics} (its owners' provisioning counters)
 * beside it. Usage errors exit with 2, a VM that could not boot with 3, otherwise the command's
 * own exit code is passed through.
 */
public final class Main {
    static final int USAGE = 2;
    static final int BOOT_FAILED = 3;
    /** Held so the level set on it is not lost when the logger would be garbage-collected. */
    private static final java.util.logging.Logger QUIET = java.util.logging.Logger.getLogger("org.apache.sshd");

    private Main() {}

    public static void main(String[] args) {
        System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tT.%1$tL %4$s %5$s%6$s%n");
        // MINA SSHD narrates every connection at INFO; our own lines say what matters.
        QUIET.setLevel(java.util.logging.Level.WARNING);
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            err.println(usage());
            return USAGE;
        }
        if (isHelp(args[0])) {
            out.println(usage());
            return 0;
        }
        List<String> rest = Arrays.asList(args).subList(1, args.length);
        String commandUsage = usage(args[0]);
        if (commandUsage != null && asksForHelp(rest)) {
            out.println(commandUsage);
            return 0;
        }
        try {
            switch (args[0]) {
                case "run":
                    return new RunCommand(RunCommand.Options.parse(rest), out, err).call();
                case "bench":
                    return new BenchCommand(rest, out, err).call();
                case "images":
                    return ImagesCommand.run(rest, out, err);
                case "reap":
                    return ReapCommand.run(rest, out, err);
                case "ps":
                    return PsCommand.run(rest, out, err);
                case "metrics":
                    return MetricsCommand.run(rest, out, err);
                default:
                    err.println("unknown command '" + args[0] + "'\n" + usage());
                    return USAGE;
            }
        } catch (InvalidInputException e) {
            err.println("qemu-agents: " + e.getMessage());
            return USAGE;
        } catch (java.io.IOException e) {
            err.println("qemu-agents: " + e.getMessage());
            return BOOT_FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("qemu-agents: interrupted");
            return BOOT_FAILED;
        }
    }

    /** Asked for help anywhere among the options, i.e. before the {@code --} that starts a command. */
    static boolean asksForHelp(List<String> args) {
        for (String a : args) {
            if (a.equals("--")) {
                return false;
            }
            if (isHelp(a)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isHelp(String arg) {
        return arg.equals("--help") || arg.equals("-h");
    }

    static String usage() {
        return String.join("\n", RUN_USAGE, BENCH_USAGE, ImagesCommand.usage(), ReapCommand.usage(), PsCommand.usage(),
                MetricsCommand.usage());
    }

    /** The usage of one command, or null for a name that is no command. */
    static String usage(String command) {
        switch (command) {
            case "run": return RUN_USAGE;
            case "bench": return BENCH_USAGE;
            case "images": return ImagesCommand.usage();
            case "reap": return ReapCommand.usage();
            case "ps": return PsCommand.usage();
            case "metrics": return MetricsCommand.usage();
            default: return null;
        }
    }

    private static final String RUN_USAGE = String.join("\n",
            "usage: qemu-agents run --image NAME [--cpus N] [--memory SIZE] [--disk SIZE] [--timeout DUR]",
            "                       [--machine TYPE] [--accel auto|kvm|tcg] [--user NAME] [--images-dir DIR]",
            "                       [--state-dir DIR] [--keep-console] [--warm] [--egress POLICY] -- COMMAND...",
            "  Boots a throw-away VM from the catalog image NAME, runs COMMAND in it over SSH,",
            "  prints its output, destroys the VM and exits with COMMAND's exit code.",
            "  --disk gives the VM a disk larger than the image's (e.g. 20G); its filesystem grows at boot.",
            "  --egress default (internet, nothing on the host; the default), none (SSH only),",
            "           or either + allow:PORT[,PORT] (those ports of the host's 127.0.0.1, at the guest's 127.0.0.1).",
            "  --warm restores the VM from the template's warm snapshot (built first if missing or stale).",
            "  Phase timings go to stderr.");

    private static final String BENCH_USAGE = String.join("\n",
            "usage: qemu-agents bench [--image NAME] [--runs N] [--baseline-runs N] [--concurrency 2,4]",
            "                         [--cpus N] [--memory SIZE] [--out DIR] [--baseline-script FILE]",
            "                         [--restore-runs N] [--restore-concurrency 4] [--images-dir DIR]",
            "                         [--workload boot|agent] [--agent-jvm-options \"-Xmx256m ...\"]",
            "  Measures time-to-online of the engine against bench/baseline.sh on the same image.",
            "  --workload agent goes on after each login as Jenkins' SSH launcher does: an agent jar put in",
            "  place (the warm snapshot carries it) and java -jar of it timed until it answers on stdio.");
}
