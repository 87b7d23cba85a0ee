package io.jenkins.plugins.qemu.engine.cloud;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the time went between a build entering the queue and its start on a VM agent: queued,
 * VM online (booted or restored), agent connected, build started, each measured from the one
 * before, as one line for the agent log, the build log and the controller log. A VM that was
 * already running when the build was queued (an idle agent reused) has no boot in this build's
 * wait, and the line says so instead of counting the boot.
 *
 * @param queued when the build entered the queue
 * @param provisionStarted when the VM's boot was requested
 * @param vmOnline when the VM accepted its first SSH login
 * @param agentConnected when the agent's channel came up
 * @param buildStarted when the build began on the agent
 * @param boot how the VM came up, e.g. "warm restore" or "cold boot (no warm snapshot yet)"
 */
public record BuildPhases(Instant queued, Instant provisionStarted, Instant vmOnline, Instant agentConnected,
        Instant buildStarted, String boot) {

    /** The one line; unknown instants (null, e.g. after a restart) are left out rather than guessed. */
    public String line(String build, String vmId) {
        List<String> parts = new ArrayList<>();
        if (queued == null || buildStarted == null) {
            return build + " started on VM " + vmId;
        }
        if (provisionStarted == null) {
            // Boot times are not kept across a controller restart.
            return build + " on VM " + vmId + ": the VM is from before a controller restart, build started "
                    + secs(queued, buildStarted) + " after it was queued";
        }
        boolean vmForThisBuild = !provisionStarted.isBefore(queued);
        if (!vmForThisBuild) {
            parts.add("the VM was already up (a warm-pool member or an idle agent)");
            parts.add("build started " + secs(queued, buildStarted) + " after it was queued");
            return build + " on VM " + vmId + ": " + String.join(", ", parts);
        }
        parts.add("queued until the boot began " + secs(queued, provisionStarted));
        if (vmOnline != null) {
            parts.add("VM online +" + secs(provisionStarted, vmOnline) + (boot == null ? "" : " (" + boot + ")"));
        }
        Instant before = vmOnline != null ? vmOnline : provisionStarted;
        if (agentConnected != null) {
            parts.add("agent connected +" + secs(before, agentConnected));
            before = agentConnected;
        }
        parts.add("build started +" + secs(before, buildStarted));
        return build + " on VM " + vmId + ": " + String.join(", ", parts) + "; " + secs(queued, buildStarted) + " from queue to start";
    }

    /**
     * {@link #line(String, String)} for a pipeline, whose build starts on the controller and whose
     * {@code node} block only takes the agent's executor ({@code buildStarted}): the line is
     * written when the block's first step starts, and adds that step's wait and the whole wait
     * from the queue to it.
     */
    public String line(String build, String vmId, Instant firstStep) {
        String line = line(build, vmId);
        if (buildStarted == null || firstStep == null) {
            return line;
        }
        String step = "first step +" + secs(buildStarted, firstStep);
        return queued == null ? line + ", " + step : line + "; " + step + ", " + secs(queued, firstStep) + " from queue to first step";
    }

    private static String secs(Instant from, Instant to) {
        Duration d = Duration.between(from, to);
        return String.format("%.1f s", Math.max(0, d.toMillis()) / 1000.0);
    }
}
