package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import java.time.Instant;

/**
 * What keep-on-failure decided for one agent, saved with its node ({@link QemuAgent}) so that a
 * controller restart neither forgets a kept VM (it would go as an unused agent) nor lets a
 * used-up agent that waits for its pipeline's result take a new build: the pipeline run it waits
 * for, or the failed build it is kept after and until when. Null fields: neither.
 */
final class KeepState {
    @CheckForNull
    private String awaitedRun;
    @CheckForNull
    private String keptBuild;
    private long keptSinceMillis;
    private long keptUntilMillis;

    synchronized void rememberAwaiting(@CheckForNull String runId) {
        awaitedRun = runId;
    }

    @CheckForNull
    synchronized String awaitedRun() {
        return awaitedRun;
    }

    /** Stops waiting for the run with this id; true for the one caller that found it awaited. */
    synchronized boolean claimAwaited(String runId) {
        if (!runId.equals(awaitedRun)) {
            return false;
        }
        awaitedRun = null;
        return true;
    }

    synchronized void rememberKept(KeptVms.Kept k) {
        awaitedRun = null;
        keptBuild = k.build();
        keptSinceMillis = k.since().toEpochMilli();
        keptUntilMillis = k.until().toEpochMilli();
    }

    @CheckForNull
    synchronized KeptVms.Kept kept() {
        return keptBuild == null ? null
                : new KeptVms.Kept(keptBuild, Instant.ofEpochMilli(keptSinceMillis), Instant.ofEpochMilli(keptUntilMillis));
    }
}
