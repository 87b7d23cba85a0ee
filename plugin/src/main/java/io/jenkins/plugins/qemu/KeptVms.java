package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import hudson.model.Computer;
import hudson.model.Queue;
import hudson.model.Result;
import hudson.model.Run;
import hudson.model.TaskListener;
import io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.logging.Logger;
import jenkins.model.Jenkins;

/**
 * Keep-on-failure, the Jenkins side: what a finished task tells about its build's outcome, the
 * line that tells the build's author where the kept VM is, and the end of a pipeline, whose result
 * decides about the agents that waited for it. The decisions themselves are the engine's
 * {@link RetentionPolicy}; how long a kept VM stays is its template's {@code keepFailedMinutes}.
 */
final class KeptVms {
    private static final Logger LOGGER = Logger.getLogger(KeptVms.class.getName());
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm 'UTC'").withZone(ZoneOffset.UTC);

    /** A VM kept after {@code build} failed, from {@code since} until {@code until}. */
    record Kept(String build, Instant since, Instant until) {}

    private KeptVms() {}

    /** Failed means a result a person wants to look into: failure or unstable (not aborted, not success). */
    static boolean failed(@CheckForNull Result result) {
        return result == Result.FAILURE || result == Result.UNSTABLE;
    }

    /**
     * What is known of the build's outcome when {@code exec} ends: a build's own result; for a
     * pipeline's block, its run's result if the run has already ended (a block that is the run's
     * last step may finish after it), else not yet.
     */
    static RetentionPolicy.Outcome outcome(@CheckForNull Queue.Executable exec, @CheckForNull Run<?, ?> run) {
        if (exec instanceof Run<?, ?> build) {
            return failed(build.getResult()) ? RetentionPolicy.Outcome.FAILED : RetentionPolicy.Outcome.SUCCEEDED;
        }
        if (run == null) {
            return RetentionPolicy.Outcome.SUCCEEDED;
        }
        if (!run.isBuilding() && run.getResult() != null) {
            return failed(run.getResult()) ? RetentionPolicy.Outcome.FAILED : RetentionPolicy.Outcome.SUCCEEDED;
        }
        return RetentionPolicy.Outcome.NOT_YET_KNOWN;
    }

    /** A moment as the build log and the Kept VM page give it. */
    static String time(Instant t) {
        return TIME.format(t);
    }

    /** The build log's line about a kept VM: where it runs, how to reach it, until when. */
    static String line(QemuComputer qemu, Instant until) {
        QemuAgent agent = qemu.getNode();
        Vm vm = agent == null ? null : agent.liveVm();
        if (vm == null) {
            return "The VM of this failed build was to be kept for debugging, but it is gone.";
        }
        String url = Jenkins.get().getRootUrl();
        String page = (url == null ? "/" : url) + qemu.getUrl() + KeptVmAction.URL + "/";
        return "The VM " + vm.id() + " of this failed build is kept for debugging until " + TIME.format(until)
                + ": it runs on the Jenkins controller's machine, SSH on 127.0.0.1:" + vm.sshPort() + " as user "
                + vm.spec().user() + ". " + page + " has its key (Agent/Configure permission) and a button to discard it sooner.";
    }

    /**
     * A build ended: a freestyle build's VM is about to be kept (its task end comes next and keeps
     * it; its log is still open only now), and the agents that waited for a pipeline's result are
     * kept or ended now.
     */
    static void runCompleted(Run<?, ?> run, TaskListener listener) {
        // Agents still running the build, or a pipeline block of it that ends after the run did: their
        // task end keeps the VM (the run's result is known by then), and only now is the log open.
        for (Computer c : Jenkins.get().getComputers()) {
            if (c instanceof QemuComputer qemu && qemu.currentExecutableOf(run) != null) {
                RetentionPolicy policy = qemu.retention().policy();
                if (failed(run.getResult()) && policy.onTaskEnd(false, false, 0, RetentionPolicy.Outcome.FAILED)
                        == RetentionPolicy.TaskEnd.KEEP_FAILED) {
                    listener.getLogger().println(line(qemu, Instant.now().plus(policy.keepFailed())));
                }
            }
        }
        String id = run.getExternalizableId();
        for (Computer c : Jenkins.get().getComputers()) {
            if (c instanceof QemuComputer qemu && qemu.claimAwaited(id)) {
                settle(qemu, run, listener);
            }
        }
    }

    /**
     * {@code run}, whose result the agent waited for, has ended: its VM is kept if it failed (the
     * line goes to {@code log}), else it goes now. Called by whoever claimed the wait
     * ({@link QemuComputer#claimAwaited}): the run's completion, or the end of its node block when
     * the run had already ended by then.
     */
    static void settle(QemuComputer qemu, Run<?, ?> run, TaskListener log) {
        QemuRetentionStrategy strategy = qemu.retention();
        Duration keep = strategy.policy().keepFailed();
        if (failed(run.getResult())) {
            qemu.keepFailed(run, keep);
            log.getLogger().println(line(qemu, Instant.now().plus(keep)));
        } else {
            LOGGER.fine(() -> qemu.getName() + ": " + run.getFullDisplayName() + " ended " + run.getResult() + "; its VM goes");
            strategy.terminate(qemu, RetentionPolicy.Decision.TERMINATE_DONE.reason());
        }
    }
}
