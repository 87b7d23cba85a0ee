package io.jenkins.plugins.qemu;

import io.jenkins.plugins.qemu.engine.reaper.ReapReport;
import io.jenkins.plugins.qemu.engine.reaper.Reaper;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import java.util.List;
import java.util.function.Predicate;

/**
 * The one place that calls the engine's reaper, so the rest of the plugin does not depend on its
 * exact shape. The reaper destroys VMs below the engine's state directory that belong to this
 * controller (owner id) but are no longer wanted, and VMs whose owner process is dead; it proves
 * ownership itself before destroying anything.
 */
final class EngineReaper {
    private EngineReaper() {}

    /** Destroys the unwanted VMs of this engine configuration; returns the ids it reaped. */
    static List<String> reap(EngineConfig config, Predicate<String> vmIdStillWanted) {
        ReapReport report = new Reaper(config).reap(false, vmIdStillWanted);
        return report.reaped();
    }
}
