package io.jenkins.plugins.qemu.engine.reaper;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs a {@link Reaper} at a fixed delay on a scheduler someone else owns (the engine's single
 * housekeeping thread), so there is never a thread per VM. A failing pass is logged and the next
 * one still runs; closing stops future passes.
 */
public final class PeriodicReaper implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PeriodicReaper.class.getName());

    private final ScheduledFuture<?> future;

    public PeriodicReaper(Reaper reaper, ScheduledExecutorService scheduler, Duration interval, Predicate<String> vmIdStillWanted,
            Consumer<ReapReport> onReport) {
        long millis = io.jenkins.plugins.qemu.engine.config.Validation.positive("reapInterval", interval).toMillis();
        this.future = scheduler.scheduleWithFixedDelay(() -> {
            try {
                onReport.accept(reaper.reap(false, vmIdStillWanted));
            } catch (RuntimeException | Error e) {
                // An exception escaping here would silently cancel every later pass.
                LOG.log(Level.WARNING, "periodic reaper pass failed; trying again in " + interval, e);
            }
        }, millis, millis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        future.cancel(false);
    }
}
