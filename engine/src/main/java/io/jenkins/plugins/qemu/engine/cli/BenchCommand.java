package io.jenkins.plugins.qemu.engine.cli;

import io.jenkins.plugins.qemu.engine.QemuEngine;
import io.jenkins.plugins.qemu.engine.bench.AgentWorkload;
import io.jenkins.plugins.qemu.engine.bench.BenchReport;
import io.jenkins.plugins.qemu.engine.bench.BootBenchmark;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.config.Validation;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code bench}: the baseline script and the engine on the same image, N sequential boots and K
 * concurrent ones, one table on stdout and CSV/JSON files for charts.
 */
final class BenchCommand {
    private final PrintStream out;
    private final PrintStream err;
    private String image = "debian-12";
    private Path imagesDir;
    private int runs = 3;
    private int baselineRuns = 3;
    private final List<Integer> concurrency = new ArrayList<>(List.of(2, 4));
    private int restoreRuns = 3;
    private final List<Integer> restoreConcurrency = new ArrayList<>(List.of(4));
    private Path outDir = Path.of("target", "bench");
    private Path baselineScript = Path.of("bench", "baseline.sh");
    private int cpus = 1;
    private long memoryMiB = 1024;
    private String workload = "boot";
    private final List<String> agentJvmOptions = new ArrayList<>();

    BenchCommand(List<String> args, PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (i + 1 >= args.size()) {
                throw new InvalidInputException("argument", a, "needs a value");
            }
            String v = args.get(++i);
            switch (a) {
                case "--image": image = Validation.imageName("--image", v); break;
                case "--images-dir": imagesDir = Path.of(v); break;
                case "--runs": runs = count("--runs", v, 0); break;
                case "--baseline-runs": baselineRuns = count("--baseline-runs", v, 0); break;
                case "--concurrency": counts(concurrency, "--concurrency", v); break;
                case "--restore-runs": restoreRuns = count("--restore-runs", v, 0); break;
                case "--restore-concurrency": counts(restoreConcurrency, "--restore-concurrency", v); break;
                case "--out": outDir = Path.of(v); break;
                case "--baseline-script": baselineScript = Path.of(v); break;
                case "--cpus": cpus = Validation.cpus("--cpus", v); break;
                case "--memory": memoryMiB = Validation.memoryMiB("--memory", v); break;
                case "--workload": workload = workload(v); break;
                case "--agent-jvm-options": agentJvmOptions.addAll(jvmOptions(v)); break;
                default: throw new InvalidInputException("option", a, "is not a known option of 'bench'");
            }
        }
        if (baselineRuns > 0 && !Files.isRegularFile(baselineScript)) {
            throw new InvalidInputException("--baseline-script", baselineScript, "does not exist (run from the repository root)");
        }
    }

    private static String workload(String v) {
        if (!v.equals("boot") && !v.equals("agent")) {
            throw new InvalidInputException("--workload", v, "must be 'boot' (to SSH login) or 'agent' (then an agent JVM over SSH)");
        }
        return v;
    }

    /** JVM options go into a shell command in the guest: plain words only. */
    private static List<String> jvmOptions(String v) {
        List<String> out = new ArrayList<>();
        for (String o : v.trim().split("\\s+")) {
            if (!o.matches("-[A-Za-z0-9:+=._/,-]+")) {
                throw new InvalidInputException("--agent-jvm-options", o, "must be JVM options such as -Xmx256m or -XX:+UseSerialGC");
            }
            out.add(o);
        }
        return out;
    }

    /** A comma-separated list of counts, each at least 1, replacing the default list. */
    private static void counts(List<Integer> into, String field, String v) {
        into.clear();
        for (String k : v.split(",")) {
            if (!k.isBlank()) {
                into.add(count(field, k.trim(), 1));
            }
        }
    }

    private static int count(String field, String v, int min) {
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= 64) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through to the error
        }
        throw new InvalidInputException(field, v, "must be a whole number from " + min + " to 64");
    }

    int call() throws IOException, InterruptedException {
        EngineConfig config = EngineConfig.defaults(imagesDir, "bench-" + ProcessHandle.current().pid());
        VmSpec template = VmSpec.builder().image(image).cpus(cpus).memoryMiB(memoryMiB)
                .bootTimeout(Duration.ofMinutes(10)).build();
        BenchReport report = new BenchReport();
        try (QemuEngine engine = new QemuEngine(config)) {
            Path imageDir = engine.catalog().resolve(image).disk().getParent();
            AgentWorkload agent = null;
            if (workload.equals("agent")) {
                Files.createDirectories(outDir);
                agent = new AgentWorkload(AgentWorkload.writeJar(outDir.resolve("echo-agent.jar")), agentJvmOptions);
            }
            BootBenchmark bench = new BootBenchmark(engine, template, baselineScript, imageDir, err::println, agent);
            try {
                report.add(bench.baseline(baselineRuns));
                report.add(bench.sequential(runs));
                for (int k : concurrency) {
                    report.add(bench.concurrent(k));
                }
                if (restoreRuns > 0 || !restoreConcurrency.isEmpty()) {
                    report.snapshotBuild(bench.prepareWarmSnapshot());
                    report.add(bench.restores(restoreRuns));
                    for (int k : restoreConcurrency) {
                        report.add(bench.concurrentRestores(k));
                    }
                }
            } finally {
                bench.close();
            }
        }
        out.print(report.table());
        report.write(outDir);
        err.println("results written to " + outDir.toAbsolutePath() + "/bench.{txt,csv,json}");
        return 0;
    }
}
