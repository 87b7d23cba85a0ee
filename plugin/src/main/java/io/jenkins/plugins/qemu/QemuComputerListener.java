package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Extension;
import hudson.model.Computer;
import hudson.model.TaskListener;
import hudson.slaves.ComputerListener;
import hudson.slaves.OfflineCause;
import hudson.slaves.RetentionStrategy;
import io.jenkins.plugins.qemu.engine.cloud.RetentionPolicy;
import java.util.concurrent.TimeUnit;
import jenkins.util.Timer;

/**
 * Tells each {@link QemuComputer} when its channel changes state, so the retention decision
 * measures launch and outage times from the event rather than from the next once-a-minute check,
 * and re-decides shortly after a launch failed or a channel was lost: a VM whose agent JVM died
 * is relaunched, or given up, in seconds instead of holding its cap slot for minutes.
 */
@Extension
public final class QemuComputerListener extends ComputerListener {
    /** Long enough for a closing channel to settle, short against a build's wait. */
    static final long RECHECK_DELAY_SECONDS = 5;

    @Override
    public void preLaunch(Computer c, TaskListener taskListener) {
        if (c instanceof QemuComputer qemu) {
            qemu.linkChanged(RetentionPolicy.Link.CONNECTING, System.currentTimeMillis());
        }
    }

    @Override
    public void onLaunchFailure(Computer c, TaskListener taskListener) {
        if (c instanceof QemuComputer qemu) {
            qemu.launchFailed();
            recheckSoon(qemu);
        }
    }

    @Override
    public void onOnline(Computer c, TaskListener listener) {
        if (c instanceof QemuComputer qemu) {
            qemu.cameOnline();
        }
    }

    @Override
    public void onOffline(@NonNull Computer c, @CheckForNull OfflineCause cause) {
        if (c instanceof QemuComputer qemu) {
            qemu.linkChanged(RetentionPolicy.Link.DISCONNECTED, System.currentTimeMillis());
            recheckSoon(qemu);
        }
    }

    @Override
    public void onTemporarilyOffline(Computer c, OfflineCause cause) {
        if (c instanceof QemuComputer qemu) {
            qemu.markedOffline(true);
        }
    }

    @Override
    public void onTemporarilyOnline(Computer c) {
        if (c instanceof QemuComputer qemu) {
            qemu.markedOffline(false);
        }
    }

    private static void recheckSoon(QemuComputer qemu) {
        Timer.get().schedule(() -> {
            RetentionStrategy<?> strategy = qemu.getRetentionStrategy();
            if (qemu.getNode() != null && strategy instanceof QemuRetentionStrategy ours) {
                ours.apply(qemu, ours.policy().decide(qemu.observe()));
            }
        }, RECHECK_DELAY_SECONDS, TimeUnit.SECONDS);
    }
}
