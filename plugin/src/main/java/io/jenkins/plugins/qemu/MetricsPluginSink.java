package io.jenkins.plugins.qemu;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import io.jenkins.plugins.qemu.engine.usage.ProvisioningMetrics;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import jenkins.metrics.api.Metrics;

/**
 * The bridge to the Jenkins metrics plugin (an optional dependency; this class is loaded only
 * when that plugin is installed): each counted event increments the counter of the same name
 * under {@code qemu-agents.}, each timed one updates a timer (median, percentiles and rates as the
 * plugin shows them), and every template gets a gauge of its running VMs, beside one for all.
 */
final class MetricsPluginSink implements ProvisioningMetrics.Sink {
    static final String PREFIX = "qemu-agents.";

    private final Supplier<Map<String, Integer>> running;

    MetricsPluginSink(Supplier<Map<String, Integer>> running) {
        this.running = running;
        gauge(PREFIX + ProvisioningMetrics.RUNNING,
                () -> running.get().values().stream().mapToInt(Integer::intValue).sum());
    }

    @Override
    public void counted(String name) {
        Metrics.metricRegistry().counter(PREFIX + name).inc();
    }

    @Override
    public void timed(String name, Duration d) {
        Metrics.metricRegistry().timer(PREFIX + name).update(d.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void templateSeen(String template) {
        gauge(PREFIX + ProvisioningMetrics.RUNNING + ".template." + template,
                () -> running.get().getOrDefault(template, 0));
    }

    private static void gauge(String name, Gauge<Integer> g) {
        MetricRegistry registry = Metrics.metricRegistry();
        synchronized (MetricsPluginSink.class) {
            // Registered once per name for the registry's life; a second cloud's sink finds it there.
            if (!registry.getGauges().containsKey(name)) {
                registry.register(name, g);
            }
        }
    }
}
