package io.jenkins.plugins.qemu;

import hudson.Extension;
import hudson.ExtensionList;
import hudson.model.AsyncPeriodicWork;
import hudson.model.Computer;
import hudson.model.Node;
import hudson.model.Queue;
import hudson.model.TaskListener;
import hudson.slaves.Cloud;
import io.jenkins.plugins.qemu.engine.cloud.CapacityLedger;
import io.jenkins.plugins.qemu.engine.cloud.TemplateSpec;
import io.jenkins.plugins.qemu.engine.cloud.WarmPool;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;
import jenkins.model.Jenkins;
import jenkins.util.Timer;

/**
 * Keeps each template's warm pool (see {@link WarmPool}): every 30 seconds, and a second after a
 * member takes a build, it boots the members a template lacks, booked in the cloud's ledger like
 * any agent, and ends members of an older version of their template. A member is an ordinary
 * one-shot {@link QemuAgent} marked as pooled until it accepts a build; the engine's
 * {@link WarmPool#plan} decides, this class only counts and carries out.
 */
@Extension
public final class QemuWarmPool extends AsyncPeriodicWork {
    private static final Logger LOGGER = Logger.getLogger(QemuWarmPool.class.getName());

    /** Member boots under way, by template key. */
    private final Map<String, Set<String>> booting = new ConcurrentHashMap<>();
    private final AtomicBoolean refillScheduled = new AtomicBoolean();

    public QemuWarmPool() {
        super("QEMU agents warm pool");
    }

    public static QemuWarmPool get() {
        return ExtensionList.lookupSingleton(QemuWarmPool.class);
    }

    @Override
    public long getRecurrencePeriod() {
        return TimeUnit.SECONDS.toMillis(30);
    }

    /** Refills in about a second (a member just took a build); several calls in that second make one refill. */
    void refillSoon() {
        if (refillScheduled.compareAndSet(false, true)) {
            Timer.get().schedule(() -> {
                refillScheduled.set(false);
                refill();
            }, 1, TimeUnit.SECONDS);
        }
    }

    @Override
    protected void execute(TaskListener listener) {
        refill();
    }

    private synchronized void refill() {
        Jenkins jenkins = Jenkins.getInstanceOrNull();
        if (jenkins == null || jenkins.isTerminating()) {
            return;
        }
        for (Cloud cloud : jenkins.clouds) {
            // Not on hosts yet: the pool boots through the controller's own engine (README, "QEMU hosts").
            if (cloud instanceof QemuCloud qemu && !qemu.usesHosts()) {
                for (QemuTemplate t : qemu.getTemplates()) {
                    try {
                        refill(jenkins, qemu, t);
                    } catch (InvalidInputException e) {
                        LOGGER.fine(() -> "Template '" + t.getLabels() + "' of cloud " + qemu.name + " has no pool: " + e.getMessage());
                    } catch (RuntimeException e) {
                        LOGGER.log(Level.WARNING, "Refilling the warm pool of template '" + t.getLabels() + "' of cloud " + qemu.name + " failed", e);
                    }
                }
            }
        }
    }

    private void refill(Jenkins jenkins, QemuCloud cloud, QemuTemplate template) {
        TemplateSpec spec = template.toSpec();
        String key = cloud.templateKey(template);
        List<WarmPool.Member> members = new ArrayList<>();
        List<QemuAgent> agents = new ArrayList<>();
        for (Node n : jenkins.getNodes()) {
            if (n instanceof QemuAgent a && a.isPooledFor(key)) {
                String digest = a.getPoolDigest();
                members.add(new WarmPool.Member(a.getVmId(), digest == null ? "" : digest));
                agents.add(a);
            }
        }
        if (spec.warmPool() == 0 && members.isEmpty()) {
            return;
        }
        Set<String> inFlight = booting.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet());
        WarmPool.Plan plan = WarmPool.plan(spec.warmPool(), spec.digest(), members, inFlight.size(), waitingBuilds(jenkins, cloud, template));
        for (QemuAgent a : agents) {
            if (plan.toDestroy().contains(a.getVmId()) && a.leavePool()) {
                Computer.threadPoolForRemoting.execute(() -> terminate(a));
            }
        }
        if (plan.toBoot() > 0 && cloud.blockage(template) == null) {
            boot(cloud, template, spec, key, plan.toBoot(), inFlight);
        }
    }

    private static int waitingBuilds(Jenkins jenkins, QemuCloud cloud, QemuTemplate template) {
        int n = 0;
        for (Queue.BuildableItem item : jenkins.getQueue().getBuildableItems()) {
            if (cloud.usableTemplateFor(item.getAssignedLabel()) == template) {
                n++;
            }
        }
        return n;
    }

    /** Only while idle: under the queue's lock, so no build can be handed to it between the check and the end. */
    private static void terminate(QemuAgent a) {
        Computer c = a.toComputer();
        AtomicBoolean idle = new AtomicBoolean();
        Queue.withLock(() -> {
            if (c == null || c.isIdle()) {
                idle.set(true);
                if (c instanceof hudson.slaves.SlaveComputer sc) {
                    sc.setAcceptingTasks(false);
                }
            }
        });
        if (!idle.get()) {
            return;
        }
        try {
            a.terminate("it was a warm-pool member of an older version of its template, or the pool shrank");
        } catch (IOException | RuntimeException e) {
            LOGGER.log(Level.WARNING, "Ending warm-pool agent " + a.getNodeName() + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void boot(QemuCloud cloud, QemuTemplate template, TemplateSpec spec, String key, int count, Set<String> inFlight) {
        CapacityLedger ledger = QemuEngines.get().ledger(cloud.getId(), cloud.limits());
        CapacityLedger.Claim claim = new CapacityLedger.Claim(key, spec.instanceCap(), spec.cpus(), spec.memoryMiB(),
                CapacityLedger.Purpose.AGENT);
        for (int i = 0; i < count; i++) {
            String vmId = VmSpec.newVmId();
            Optional<CapacityLedger.Reservation> reservation = ledger.tryReserve(vmId, claim);
            if (reservation.isEmpty()) {
                LOGGER.fine(() -> "Warm pool of template '" + template.getLabels() + "' waits: " + ledger.refusal(claim));
                return;
            }
            inFlight.add(vmId);
            ProvisioningTask task = new ProvisioningTask(cloud.getId(), cloud.name, cloud.engineConfig(), spec, cloud.restartLease(), vmId,
                    reservation.get(), key, null);
            Computer.threadPoolForRemoting.execute(() -> {
                try {
                    task.run();
                    if (task.get() instanceof QemuAgent agent) {
                        agent.joinPool(key, spec.digest());
                        add(agent);
                        LOGGER.info(() -> "Warm pool of template '" + template.getLabels() + "' of cloud " + cloud.name + ": "
                                + agent.getNodeName() + " is ready");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (Exception e) {
                    // ProvisioningTask logged the failure once, released the booking and told the back-off.
                    LOGGER.fine(() -> "Warm-pool boot " + vmId + " failed: " + e);
                } finally {
                    inFlight.remove(vmId);
                }
            });
        }
    }

    private static void add(QemuAgent agent) throws IOException, InterruptedException {
        try {
            Jenkins.get().addNode(agent);
        } catch (IOException | RuntimeException e) {
            agent.terminate("it could not be added to Jenkins: " + e);
            throw e;
        }
    }
}
