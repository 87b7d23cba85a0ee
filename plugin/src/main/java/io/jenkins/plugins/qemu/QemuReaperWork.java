package io.jenkins.plugins.qemu;

import hudson.Extension;
import hudson.init.InitMilestone;
import hudson.init.Initializer;
import hudson.model.AsyncPeriodicWork;
import hudson.model.TaskListener;
import hudson.util.LogTaskListener;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import jenkins.model.Jenkins;
import jenkins.util.Timer;

/**
 * Runs {@link QemuCleanup} every two minutes, and once right after the controller has loaded
 * its nodes, when every QEMU agent left from before the restart has lost its VM.
 */
@Extension
public final class QemuReaperWork extends AsyncPeriodicWork {
    private static final Logger LOGGER = Logger.getLogger(QemuReaperWork.class.getName());

    public QemuReaperWork() {
        super("QEMU agents cleanup");
    }

    @Override
    public long getRecurrencePeriod() {
        return TimeUnit.MINUTES.toMillis(2);
    }

    @Override
    protected void execute(TaskListener listener) {
        try {
            QemuCleanup.run(listener);
        } catch (IllegalStateException e) {
            if (Jenkins.getInstanceOrNull() != null) {
                throw e;
            }
            // Jenkins shut down during the pass (a test's quick end, a restart): nothing left to clean for it.
        }
    }

    /** In the background, so a slow host does not hold up the controller's start. */
    @Initializer(after = InitMilestone.JOB_CONFIG_ADAPTED)
    public static void cleanUpAfterStart() {
        Timer.get().submit(() -> {
            try {
                QemuCleanup.run(new LogTaskListener(LOGGER, Level.INFO));
            } catch (RuntimeException e) {
                LOGGER.log(Level.WARNING, "Cleaning up QEMU agents after start failed", e);
            }
        });
    }
}
