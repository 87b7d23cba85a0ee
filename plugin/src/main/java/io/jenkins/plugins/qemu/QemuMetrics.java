package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import hudson.Extension;
import hudson.ExtensionList;
import hudson.model.Node;
import hudson.slaves.Cloud;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.usage.MetricsFile;
import io.jenkins.plugins.qemu.engine.usage.ProvisioningMetrics;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import jenkins.model.Jenkins;

/**
 * The engine's {@link ProvisioningMetrics}, one per state directory the clouds use, recorded
 * where Jenkins sees the events (a VM online or failed, a build started, a first step, orphans
 * reaped). Each event also goes to the metrics plugin's registry when that plugin is installed
 * ({@link MetricsPluginSink}, under {@code qemu-agents.}), and after each event, and at each
 * cleanup pass, the snapshot is left in the state directory for {@code qemu-agents metrics}.
 * Counting never fails a build: a counter that cannot be written is logged and skipped.
 */
@Extension
public final class QemuMetrics {
    private static final Logger LOGGER = Logger.getLogger(QemuMetrics.class.getName());

    private final Map<Path, ProvisioningMetrics> byStateDir = new HashMap<>();
    @CheckForNull
    private volatile ProvisioningMetrics.Sink sink;

    public static QemuMetrics get() {
        return ExtensionList.lookupSingleton(QemuMetrics.class);
    }

    /** Records one event against the metrics of {@code config}'s state directory, then leaves the snapshot there. */
    void record(EngineConfig config, Consumer<ProvisioningMetrics> event) {
        ProvisioningMetrics m = of(config);
        try {
            event.accept(m);
        } catch (RuntimeException e) {
            LOGGER.log(Level.WARNING, "Counting a provisioning event failed", e);
        }
        write(config, m);
    }

    /** Records one event of {@code agent}'s VM, against the state directory of its cloud; nothing when the cloud is gone. */
    void record(@CheckForNull QemuAgent agent, Consumer<ProvisioningMetrics> event) {
        if (agent != null) {
            recordForCloud(agent.getCloudId(), event);
        }
    }

    /**
     * Records one event against the state directory of the cloud with this id (a VM on a QEMU
     * host counts there too: the controller's cloud asked for it); nothing when the cloud is gone.
     */
    void recordForCloud(@CheckForNull String cloudId, Consumer<ProvisioningMetrics> event) {
        EngineConfig config = configOf(cloudId);
        if (config != null) {
            record(config, event);
        }
    }

    /** Leaves every snapshot again, so the running VMs per template are current in the files too. */
    void writeAll(Iterable<EngineConfig> configs) {
        for (EngineConfig c : configs) {
            write(c, of(c));
        }
    }

    private synchronized ProvisioningMetrics of(EngineConfig config) {
        Path dir = config.stateDir();
        return byStateDir.computeIfAbsent(dir, d -> new ProvisioningMetrics("controller " + config.ownerId() + ", state directory " + d,
                Clock.systemUTC(), () -> runningPerTemplate(d), sink()));
    }

    private void write(EngineConfig config, ProvisioningMetrics m) {
        // One writer at a time per snapshot, so an older snapshot never replaces a newer one.
        synchronized (m) {
            try {
                MetricsFile.write(MetricsFile.of(config.stateDir(), config.ownerId()), m.snapshot());
            } catch (IOException | InvalidInputException e) {
                LOGGER.log(Level.FINE, "Cannot leave the provisioning metrics in " + config.stateDir(), e);
            }
        }
    }

    private ProvisioningMetrics.Sink sink() {
        ProvisioningMetrics.Sink s = sink;
        if (s == null) {
            // The metrics plugin is an optional dependency: its classes are only touched when it is there.
            Jenkins j = Jenkins.getInstanceOrNull();
            boolean installed = j != null && j.getPlugin("metrics") != null;
            s = installed ? new MetricsPluginSink(this::runningPerTemplate) : ProvisioningMetrics.Sink.NONE;
            sink = s;
        }
        return s;
    }

    /** Running QEMU agents per template family, of every cloud: what the metrics plugin's gauges show. */
    Map<String, Integer> runningPerTemplate() {
        return runningPerTemplate(null);
    }

    /** Running QEMU agents per template family whose cloud uses {@code stateDir}; every cloud's for null. */
    private Map<String, Integer> runningPerTemplate(@CheckForNull Path stateDir) {
        Map<String, Integer> running = new TreeMap<>();
        Jenkins j = Jenkins.getInstanceOrNull();
        if (j == null) {
            return running;
        }
        Map<String, Path> dirs = new HashMap<>();
        for (Node n : j.getNodes()) {
            if (n instanceof QemuAgent a) {
                if (stateDir != null) {
                    Path dir = dirs.computeIfAbsent(a.getCloudId(), id -> {
                        EngineConfig c = configOf(id);
                        return c == null ? Path.of("") : c.stateDir();
                    });
                    if (!stateDir.equals(dir)) {
                        continue;
                    }
                }
                running.merge(a.getFamily(), 1, Integer::sum);
            }
        }
        return running;
    }

    @CheckForNull
    private static EngineConfig configOf(@CheckForNull String cloudId) {
        Jenkins j = Jenkins.getInstanceOrNull();
        if (j == null || cloudId == null) {
            return null;
        }
        for (Cloud c : j.clouds) {
            if (c instanceof QemuCloud q && cloudId.equals(q.getId())) {
                try {
                    return q.engineConfig();
                } catch (InvalidInputException e) {
                    return null;
                }
            }
        }
        return null;
    }
}
