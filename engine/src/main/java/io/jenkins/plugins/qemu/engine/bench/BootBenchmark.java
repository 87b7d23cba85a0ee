package io.jenkins.plugins.qemu.engine.bench;

import io.jenkins.plugins.qemu.engine.QemuEngine;
import io.jenkins.plugins.qemu.engine.state.VmDir;
import io.jenkins.plugins.qemu.engine.vm.Phase;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The time-to-online benchmark: the hand-written baseline script and the engine, on the same
 * image in the same run. The engine is measured sequentially and with K VMs booting at once;
 * every sample is a cold boot to a verified SSH login followed by a destroy.
 */
public final class BootBenchmark {
    private static final Pattern ONLINE = Pattern.compile("online_ms=(\\d+)");

    private final QemuEngine engine;
    private final AgentWorkload agent;
    private final VmSpec template;
    private final Path baselineScript;
    private final Path imageDir;
    private final Consumer<String> log;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "bench-console");
        t.setDaemon(true);
        return t;
    });

    public BootBenchmark(QemuEngine engine, VmSpec template, Path baselineScript, Path imageDir, Consumer<String> log) {
        this(engine, template, baselineScript, imageDir, log, null);
    }

    /**
     * With {@code agent} set, every engine sample goes on after its login with the agent workload
     * ({@link AgentWorkload}), and the template carries its jar, so the warm snapshot does too.
     */
    public BootBenchmark(QemuEngine engine, VmSpec template, Path baselineScript, Path imageDir, Consumer<String> log,
            AgentWorkload agent) {
        this.engine = engine;
        this.agent = agent;
        this.template = agent == null ? template : template.toBuilder().agentJar(agent.jar()).build();
        this.baselineScript = baselineScript;
        this.imageDir = imageDir;
        this.log = log;
    }

    /** Runs the baseline script {@code runs} times, one after the other. */
    public List<Sample> baseline(int runs) {
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            out.add(baselineOnce(i));
            log.accept("baseline #" + i + ": " + describe(out.get(i)));
        }
        return out;
    }

    private Sample baselineOnce(int index) {
        Path work = null;
        try {
            work = Files.createTempDirectory("qa-baseline-");
            Files.delete(work); // the script makes it and removes it itself
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort(); // a hand-written script picks a port like this, racily
            }
            Process p = new ProcessBuilder("bash", baselineScript.toString(), imageDir.toString(), work.toString(),
                    Integer.toString(port)).redirectErrorStream(true).start();
            String output;
            try (InputStream in = p.getInputStream()) {
                output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!p.waitFor(15, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                return Sample.failed("baseline", index, "baseline script failed: " + output.strip());
            }
            Matcher m = ONLINE.matcher(output);
            if (!m.find()) {
                return Sample.failed("baseline", index, "no online_ms in: " + output.strip());
            }
            double online = Long.parseLong(m.group(1)) / 1000.0;
            return new Sample("baseline", index, true, online, Double.NaN, Double.NaN, Double.NaN, -1, -1, Map.of(), null);
        } catch (IOException e) {
            return Sample.failed("baseline", index, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Sample.failed("baseline", index, "interrupted");
        }
    }

    /** {@code runs} engine boots one after the other. */
    public List<Sample> sequential(int runs) {
        return sequential("sequential", runs, false);
    }

    /** {@code runs} restores from the template's warm snapshot, one after the other. */
    public List<Sample> restores(int runs) {
        return sequential("restore", runs, true);
    }

    private List<Sample> sequential(String config, int runs, boolean warm) {
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            out.add(engineOnce(config, i, warm));
            log.accept(config + " #" + i + ": " + describe(out.get(i)));
        }
        return out;
    }

    /**
     * Builds (or finds current) the template's warm snapshot before restores are measured; the
     * build is a one-off per template, reported on its own and not mixed into the samples.
     */
    public double prepareWarmSnapshot() throws IOException, InterruptedException {
        long start = System.nanoTime();
        engine.prepareWarmSnapshot(template.toBuilder().warmStart(true).build());
        double s = (System.nanoTime() - start) / 1e9;
        log.accept(String.format("warm snapshot ready after %.1fs", s));
        return s;
    }

    /** {@code k} engine boots started at the same moment. */
    public List<Sample> concurrent(int k) throws InterruptedException {
        return concurrent("concurrent-" + k, k, false);
    }

    /** {@code k} restores from the same warm snapshot started at the same moment. */
    public List<Sample> concurrentRestores(int k) throws InterruptedException {
        return concurrent("restore-concurrent-" + k, k, true);
    }

    private List<Sample> concurrent(String config, int k, boolean warm) throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(k);
        try {
            List<Future<Sample>> futures = new ArrayList<>();
            for (int i = 0; i < k; i++) {
                int index = i;
                futures.add(pool.submit(() -> engineOnce(config, index, warm)));
            }
            List<Sample> out = new ArrayList<>();
            for (Future<Sample> f : futures) {
                try {
                    out.add(f.get());
                } catch (java.util.concurrent.ExecutionException e) {
                    out.add(Sample.failed(config, out.size(), String.valueOf(e.getCause())));
                }
                log.accept(config + " #" + (out.size() - 1) + ": " + describe(out.get(out.size() - 1)));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private Sample engineOnce(String config, int index, boolean warm) {
        VmSpec spec = template.toBuilder().vmId(VmSpec.newVmId()).hostname(null).warmStart(warm).build();
        long start = System.nanoTime();
        Vm vm = engine.create(spec, line -> { });
        try (ConsoleMarks marks = new ConsoleMarks(vm::consoleFile, start, scheduler)) {
            vm.boot();
            double online = (System.nanoTime() - start) / 1e9;
            if (warm && !vm.restored()) {
                vm.destroy();
                return Sample.failed(config, index, "booted cold instead of restoring: " + vm.coldBootReason());
            }
            long rss = rssKiB(vm.pid());
            // cloud-init keeps working after sshd answers; wait (bounded) to report when it is done.
            long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (vm.usedCloudInit() && !marks.cloudInitSeen() && System.nanoTime() < until && vm.isAlive()) {
                Thread.sleep(50);
            }
            Map<String, Double> phases = new LinkedHashMap<>();
            if (agent != null) {
                agent.run(vm, phases);
                phases.put("agent_rss_mib", rssKiB(vm.pid()) / 1024.0);
            }
            long overlay = sizeOf(vm.stateDir().resolve(VmDir.OVERLAY));
            vm.destroy();
            for (Map.Entry<Phase, Duration> e : vm.timings().asMap().entrySet()) {
                phases.put(e.getKey().name().toLowerCase(), e.getValue().toMillis() / 1000.0);
            }
            Duration destroy = vm.timings().get(Phase.DESTROY);
            return new Sample(config, index, true, online, marks.firstByte(), marks.cloudInitDone(),
                    destroy == null ? Double.NaN : destroy.toMillis() / 1000.0, rss, overlay, phases, null);
        } catch (Exception e) {
            vm.destroy();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return Sample.failed(config, index, e.getMessage());
        }
    }

    static long rssKiB(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // The process is gone; report unknown.
        }
        return -1;
    }

    private static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return -1;
        }
    }

    private static String describe(Sample s) {
        return s.ok() ? String.format("online %.1fs", s.online()) : "FAILED: " + s.error();
    }

    public void close() {
        scheduler.shutdownNow();
    }
}
