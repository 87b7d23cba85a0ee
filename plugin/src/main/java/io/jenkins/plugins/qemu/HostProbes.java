package io.jenkins.plugins.qemu;

import hudson.model.Computer;
import hudson.model.Label;
import hudson.model.Node;
import io.jenkins.plugins.qemu.engine.cloud.HostBudget;
import io.jenkins.plugins.qemu.engine.cloud.HostPlacement;
import io.jenkins.plugins.qemu.engine.host.HostChannel;
import io.jenkins.plugins.qemu.engine.host.HostReport;
import io.jenkins.plugins.qemu.engine.host.ProbeHost;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;
import jenkins.model.Jenkins;

/**
 * What the clouds last learnt of their hosts by asking them ({@link ProbeHost}): one answer per
 * host, reused for a minute, asked again in the background when it is older (never on the
 * provisioner's thread: a host's first answer can take seconds while the engine's classes reach
 * it). A new answer feeds every placement and asks the provisioner to look again, so a build
 * waiting for a host's first probe gets its VM without waiting for the next periodic pass. Why a
 * host cannot run VMs, and why a template's VM went nowhere, are logged once per change.
 */
final class HostProbes {
    private static final Logger LOGGER = Logger.getLogger(HostProbes.class.getName());
    private static final Duration FRESH = Duration.ofMinutes(1);

    private record Answer(HostReport report, long atMillis) {}

    private record Refusal(String text, long atMillis) {}

    private final QemuHosts hosts;
    private final Map<String, Answer> answers = new ConcurrentHashMap<>();
    private final Set<String> asking = ConcurrentHashMap.newKeySet();
    private final Map<String, String> lastSaid = new ConcurrentHashMap<>();
    private final Map<String, Refusal> refusals = new ConcurrentHashMap<>();

    HostProbes(QemuHosts hosts) {
        this.hosts = hosts;
    }

    /**
     * The built-in host's answer depends on the cloud's directories; a host agent's is the same for
     * every cloud but not for every setting of its host property: an answer from before the admin
     * changed the host's directories is not reused (it would name the old catalog's images).
     */
    private static String key(QemuCloud cloud, String host) {
        if (QemuHosts.BUILT_IN.equals(host)) {
            return host + "@" + cloud.getId();
        }
        Node node = Jenkins.get().getNode(host);
        QemuHostProperty p = QemuHostProperty.of(node);
        return host + "@" + p.getImagesDir() + "@" + p.getStateDir();
    }

    /**
     * The cloud's placement brought up to date: its hosts and budgets as configured now, each
     * online host's last answer, offline hosts lost; stale answers are asked for again.
     */
    HostPlacement refresh(QemuCloud cloud) {
        HostPlacement placement = hosts.placement(cloud);
        List<HostBudget> budgets = hosts.budgets(cloud);
        placement.configure(budgets);
        long now = System.currentTimeMillis();
        for (HostBudget b : budgets) {
            String host = b.host();
            if (!QemuHosts.BUILT_IN.equals(host) && hosts.remote(host) == null) {
                if (answers.keySet().stream().anyMatch(k -> k.startsWith(host + "@"))) {
                    hosts.lost(host, "its agent is not connected");
                }
                continue;
            }
            Answer a = answers.get(key(cloud, host));
            if (a != null) {
                placement.hostUp(host, a.report().facts());
            }
            if (a == null || now - a.atMillis() > FRESH.toMillis()) {
                askLater(cloud, host);
            }
        }
        return placement;
    }

    /** Probes the host in the background, one question per host at a time. */
    void askLater(QemuCloud cloud, String host) {
        String key = key(cloud, host);
        if (!asking.add(key)) {
            return;
        }
        Computer.threadPoolForRemoting.submit(() -> {
            try {
                HostChannel channel = hosts.channel(cloud, host);
                if (channel == null) {
                    return;
                }
                long start = System.nanoTime();
                HostReport report = channel.call(new ProbeHost());
                boolean first = answers.put(key, new Answer(report, System.currentTimeMillis())) == null;
                say(key, report.unusable() == null
                        ? "Host " + host + " can run VMs: images " + report.images() + ", " + report.machineCpus() + " CPUs, "
                                + report.machineMemoryMiB() + "M (answered in " + (System.nanoTime() - start) / 1_000_000 + " ms)"
                        : "Host " + host + " cannot run VMs: " + report.unusable());
                // Every answer of a connection repeats what its engine removed at its start: said once.
                if (first && !report.reapedAtStart().isEmpty()) {
                    LOGGER.info("Host " + host + " removed VMs its earlier connection left: " + report.reapedAtStart());
                }
                if (first) {
                    reviewNow();
                }
            } catch (IOException | RuntimeException e) {
                LOGGER.log(Level.WARNING, "Probing QEMU host " + host + " failed", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                asking.remove(key);
            }
        });
    }

    /** Forgets a host's answers: after it comes back only a new probe makes it usable. */
    void forget(String host) {
        answers.keySet().removeIf(k -> k.startsWith(host + "@"));
        lastSaid.keySet().removeIf(k -> k.startsWith(host + "@"));
    }

    /** Logs why a template's VM went nowhere, once per new reason; null clears it (a VM was placed). */
    void refused(QemuCloud cloud, String templateKey, String refusal) {
        String key = "refusal:" + templateKey;
        if (refusal == null) {
            lastSaid.remove(key);
            refusals.remove(templateKey);
            return;
        }
        refusals.put(templateKey, new Refusal(refusal, System.currentTimeMillis()));
        say(key, "Cloud " + cloud.name + " cannot place a VM of template " + templateKey + " now: " + refusal);
    }

    /**
     * Why the template's last VM went nowhere, for the cloud page; null when one was placed since,
     * or when no build asked for a minute (the provisioner asks every few seconds while one waits),
     * so a reason that no longer holds is not shown.
     */
    String refusal(String templateKey) {
        Refusal r = refusals.get(templateKey);
        return r == null || System.currentTimeMillis() - r.atMillis() > FRESH.toMillis() ? null : r.text();
    }

    private void say(String key, String line) {
        if (!Objects.equals(lastSaid.put(key, line), line)) {
            LOGGER.info(line);
        }
    }

    /** Every label's provisioner looks again now: a host became usable. */
    private static void reviewNow() {
        Jenkins jenkins = Jenkins.getInstanceOrNull();
        if (jenkins == null) {
            return;
        }
        jenkins.unlabeledNodeProvisioner.suggestReviewNow();
        for (Label l : jenkins.getLabels()) {
            l.nodeProvisioner.suggestReviewNow();
        }
    }

    /** A host agent came online: ask it at once instead of at the next provisioning pass. */
    void hostOnline(Node node) {
        for (hudson.slaves.Cloud c : Jenkins.get().clouds) {
            if (c instanceof QemuCloud cloud && QemuHosts.hostNodes(cloud).contains(node)) {
                askLater(cloud, node.getNodeName());
            }
        }
    }
}
