package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import hudson.model.Executor;
import hudson.model.TaskListener;
import hudson.slaves.AbstractCloudComputer;
import io.jenkins.plugins.qemu.engine.cloud.BuildPhases;
import io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy;
import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * The computer of a {@link QemuAgent}: reports what the retention strategy needs to decide about
 * the agent, writes the VM's boot log into the agent log, and gives (permission-checked, see
 * {@link GuestConsoleAction}) access to the guest's serial console.
 */
public class QemuComputer extends AbstractCloudComputer<QemuAgent> {
    private static final Logger LOGGER = Logger.getLogger(QemuComputer.class.getName());
    /** Tail shown of the guest console; boot messages and a login prompt fit comfortably. */
    static final int CONSOLE_TAIL_BYTES = 256 * 1024;

    /** When the channel entered its current state (connecting, connected, disconnected); 0 before the first launch. */
    private volatile long linkSinceMillis;
    private volatile RetentionPolicy.Link lastLink;
    /** Launches in a row that ended without a channel; reset when one comes online. */
    private final AtomicInteger failedLaunches = new AtomicInteger();
    private volatile long markedOfflineSinceMillis;
    /** A one-shot agent whose build is over: it takes no new build and goes when its executors are idle. */
    private volatile boolean usedUp;
    private volatile boolean provisioningLogPrinted;
    /** When the agent's channel last came up; null before. */
    private volatile Instant connectedAt;
    private final AtomicBoolean phasesPrinted = new AtomicBoolean();
    private volatile String lastPhases;
    private final java.util.concurrent.atomic.AtomicReference<PendingFirstStep> pendingFirstStep = new java.util.concurrent.atomic.AtomicReference<>();

    /** Since when this agent waits for its pipeline's result (whether to keep it is on the node: {@link KeepState#awaitedRun}). */
    private volatile long awaitingSinceMillis;

    /** A build started here whose first pipeline step has not started yet. */
    private record PendingFirstStep(BuildPhases phases, String build, String vmId) {}

    public QemuComputer(QemuAgent agent) {
        super(agent);
        // A controller restart made this computer anew: what keep-on-failure decided is on the
        // saved node, and the agent stays used up.
        if (agent.keepState().kept() != null || agent.keepState().awaitedRun() != null) {
            useUp();
            awaitingSinceMillis = System.currentTimeMillis();
        }
    }

    /** The engine's boot progress and phase timings, once, at the top of the agent log. */
    void printProvisioningLog(TaskListener listener) {
        QemuAgent agent = getNode();
        if (agent == null || provisioningLogPrinted) {
            return;
        }
        provisioningLogPrinted = true;
        for (String line : agent.provisioningLog()) {
            listener.getLogger().println(line);
        }
    }

    /** A snapshot for {@link RetentionPolicy#decide}; also notices state changes no listener reported. */
    RetentionPolicy.Observation observe() {
        QemuAgent agent = getNode();
        long now = System.currentTimeMillis();
        RetentionPolicy.Link link = isConnecting() ? RetentionPolicy.Link.CONNECTING
                : getChannel() != null ? RetentionPolicy.Link.CONNECTED : RetentionPolicy.Link.DISCONNECTED;
        linkChanged(link, now);
        if (isTemporarilyOffline()) {
            if (markedOfflineSinceMillis == 0) {
                markedOfflineSinceMillis = now;
            }
        } else {
            markedOfflineSinceMillis = 0;
        }
        long marked = markedOfflineSinceMillis;
        KeptVms.Kept kept = kept();
        boolean awaiting = kept == null && agent != null && agent.keepState().awaitedRun() != null;
        return new RetentionPolicy.Observation(
                agent != null && agent.isVmAlive(),
                link,
                Duration.ofMillis(Math.max(0, now - linkSinceMillis)),
                failedLaunches.get(),
                marked == 0 ? Duration.ZERO : Duration.ofMillis(Math.max(1, now - marked)),
                busyExecutorsOtherThan(null),
                usedUp,
                Duration.ofMillis(Math.max(0, now - getIdleStartMilliseconds())),
                agent != null && agent.isPooled(),
                awaiting ? Duration.ofMillis(Math.max(1, now - awaitingSinceMillis)) : Duration.ZERO,
                kept == null ? Duration.ZERO : Duration.ofMillis(Math.max(1, now - kept.since().toEpochMilli())));
    }

    /** Records when the channel changed state; the periodic check measures launch and outage times from it. */
    void linkChanged(RetentionPolicy.Link link, long now) {
        if (link != lastLink) {
            lastLink = link;
            linkSinceMillis = now;
        }
    }

    void launchFailed() {
        failedLaunches.incrementAndGet();
        linkChanged(RetentionPolicy.Link.DISCONNECTED, System.currentTimeMillis());
    }

    /** The agent is connected: its template's back-off ends (a VM that boots but whose agent fails does not count). */
    void cameOnline() {
        connectedAt = Instant.now();
        QemuAgent agent = getNode();
        if (agent != null && agent.getTemplateKey() != null) {
            QemuEngines.get().backoff().succeeded(agent.getTemplateKey());
        }
        failedLaunches.set(0);
        linkChanged(RetentionPolicy.Link.CONNECTED, System.currentTimeMillis());
    }

    void markedOffline(boolean marked) {
        markedOfflineSinceMillis = marked ? System.currentTimeMillis() : 0;
    }

    /**
     * The phase line of a build that starts now (see {@link BuildPhases}); printed into the agent
     * log and the controller log for the first build of the agent, the one its VM was booted for.
     */
    String buildStarted(String build, @CheckForNull Instant queued) {
        QemuAgent agent = getNode();
        if (agent == null) {
            return build + " started on " + getName();
        }
        Instant now = Instant.now();
        BuildPhases phases = agent.phases(queued, connectedAt, now);
        if (queued != null) {
            QemuMetrics.get().record(agent, m -> m.buildStarted(agent.getFamily(), Duration.between(queued, now)));
        }
        String line = phases.line(build, agent.getVmId());
        lastPhases = line;
        pendingFirstStep.set(new PendingFirstStep(phases, build, agent.getVmId()));
        if (phasesPrinted.compareAndSet(false, true)) {
            getListener().getLogger().println(line);
            LOGGER.info(line);
        }
        return line;
    }

    /**
     * The phase line with the first step (see {@link BuildPhases#line(String, String, Instant)}),
     * once per build started here, for the pipeline step that starts first on this agent; null
     * for every later step.
     */
    @CheckForNull
    String firstStepStarted() {
        PendingFirstStep p = pendingFirstStep.getAndSet(null);
        if (p == null) {
            return null;
        }
        Instant now = Instant.now();
        String line = p.phases().line(p.build(), p.vmId(), now);
        QemuAgent agent = getNode();
        if (p.phases().queued() != null && agent != null) {
            QemuMetrics.get().record(agent, m -> m.firstStep(agent.getFamily(), Duration.between(p.phases().queued(), now)));
        }
        LOGGER.info(line);
        return line;
    }

    /** The phase line of the build that started last; null before the first. */
    @CheckForNull
    String lastPhases() {
        return lastPhases;
    }

    /** Takes no new build from now on; see {@link RetentionPolicy.TaskEnd#DRAIN}. */
    void useUp() {
        usedUp = true;
        setAcceptingTasks(false);
    }

    /** Keeps the VM for debugging after {@code run} failed: no new build, held for {@code keep} (see {@link RetentionPolicy}). */
    void keepFailed(@CheckForNull hudson.model.Run<?, ?> run, Duration keep) {
        useUp();
        Instant now = Instant.now();
        KeptVms.Kept kept = new KeptVms.Kept(run == null ? "its build" : run.getFullDisplayName(), now, now.plus(keep));
        QemuAgent agent = getNode();
        if (agent != null) {
            // Saved with the node: a restart brings the keep back (see the constructor). Without
            // labels and in exclusive mode too, so no build takes it even in the moment before that.
            try {
                agent.keepState().rememberKept(kept);
                agent.setLabelString("");
                agent.setMode(hudson.model.Node.Mode.EXCLUSIVE);
                jenkins.model.Jenkins.get().updateNode(agent);
            } catch (IOException e) {
                LOGGER.log(java.util.logging.Level.WARNING, getName() + ": could not save it without labels", e);
            }
        }
        LOGGER.info(() -> getName() + ": kept for debugging until " + kept.until() + " after " + kept.build() + " failed");
    }

    /** Takes no new build and waits for {@code run}'s result to know whether to keep the VM. */
    void awaitOutcome(hudson.model.Run<?, ?> run) {
        useUp();
        awaitingSinceMillis = System.currentTimeMillis();
        String awaitedRun = run.getExternalizableId();
        QemuAgent agent = getNode();
        if (agent != null) {
            agent.keepState().rememberAwaiting(awaitedRun);
            try {
                jenkins.model.Jenkins.get().updateNode(agent);
            } catch (IOException e) {
                LOGGER.log(java.util.logging.Level.WARNING, getName() + ": could not save that it waits for " + awaitedRun, e);
            }
        }
    }

    /**
     * Takes over the wait for the result of the run with this id: true for one caller only, so the
     * run's completion and the end of its node block (whichever comes second) never both settle it.
     */
    boolean claimAwaited(String runId) {
        QemuAgent agent = getNode();
        return agent != null && agent.keepState().claimAwaited(runId);
    }

    /** How this agent is kept; null when it is not. */
    @CheckForNull
    KeptVms.Kept kept() {
        QemuAgent agent = getNode();
        return agent == null ? null : agent.keepState().kept();
    }

    /** This agent's retention strategy (every QEMU agent has one). */
    QemuRetentionStrategy retention() {
        QemuAgent agent = getNode();
        return agent != null && agent.getRetentionStrategy() instanceof QemuRetentionStrategy s ? s
                : new QemuRetentionStrategy(0, io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy.DEFAULT_LAUNCH_TIMEOUT, 0);
    }

    /** The executable of this computer's executor that runs {@code run} or a block of it; null when none does. */
    @CheckForNull
    hudson.model.Queue.Executable currentExecutableOf(hudson.model.Run<?, ?> run) {
        for (Executor e : getExecutors()) {
            hudson.model.Queue.Executable x = e.getCurrentExecutable();
            if (x != null && run.equals(QemuVmUsageAction.runOf(x))) {
                return x;
            }
        }
        return null;
    }

    /** Executors other than {@code finishing} (null: all of them) that run a build. */
    int busyExecutorsOtherThan(@CheckForNull Executor finishing) {
        int n = 0;
        for (Executor e : getExecutors()) {
            if (e != finishing && e.isBusy()) {
                n++;
            }
        }
        return n;
    }

    /** The guest's serial console log while the VM lives; null when there is none. */
    @CheckForNull
    Path guestConsoleFile() {
        QemuAgent agent = getNode();
        Vm vm = agent == null ? null : agent.liveVm();
        if (vm == null) {
            return null;
        }
        Path file = vm.consoleFile();
        return Files.isReadable(file) ? file : null;
    }

    /** The last {@link #CONSOLE_TAIL_BYTES} of the guest console, or a note why there is none. */
    String guestConsoleTail() throws IOException {
        QemuAgent agent = getNode();
        if (agent != null && agent.getHost() != null) {
            return hostConsoleTail(agent);
        }
        Path file = guestConsoleFile();
        if (file == null) {
            return "(the VM is gone; its console went with it)";
        }
        FileTree.End end = FileTree.lastBytes(file, CONSOLE_TAIL_BYTES);
        String text = end.text();
        return end.cut() ? "(earlier output omitted)\n" + text.substring(Math.max(0, text.indexOf('\n') + 1)) : text;
    }

    /** A host VM's console is on its host: asked for there ({@link QemuHosts#consoleTail}). */
    private static String hostConsoleTail(QemuAgent agent) throws IOException {
        try {
            String tail = QemuHosts.get().consoleTail(agent, CONSOLE_TAIL_BYTES);
            return tail == null ? "(host " + agent.getHost() + " is offline; the VM's console went with its connection)" : tail;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while reading the console of VM " + agent.getVmId() + " on host " + agent.getHost(), e);
        }
    }
}
