package io.jenkins.plugins.qemu.engine.cloud;

import java.util.ArrayList;
import java.util.List;

/**
 * A template's warm pool: a number of VMs booted ahead of demand and kept idle as connected agents,
 * so a build finds its agent ready instead of waiting for a restore. Members are booked against
 * every cap like any agent; a member that takes a build leaves the pool (it is one-shot and goes
 * with its build) and is replaced; members of an older version of the template (its settings
 * changed) are destroyed and replaced. The pool never competes with waiting builds: while a
 * build waits for the template, the provisioner boots for it and the pool is not refilled.
 */
public final class WarmPool {
    /** The largest pool a template may ask for. */
    public static final int MAX_SIZE = 16;

    private WarmPool() {}

    /**
     * One pool member as the plugin sees it.
     *
     * @param vmId the member's VM
     * @param templateDigest the template version it was booted for
     */
    public record Member(String vmId, String templateDigest) {}

    /** What to do now: boot this many members, destroy these (stale) ones. */
    public record Plan(int toBoot, List<String> toDestroy) {
        public boolean idle() {
            return toBoot == 0 && toDestroy.isEmpty();
        }
    }

    /**
     * @param size the template's pool size (0: no pool; all members are destroyed)
     * @param digest the template's current version
     * @param members members that have taken no build yet (booting ones are in {@code booting})
     * @param booting member boots under way
     * @param waitingBuilds builds in the queue that the template could serve
     */
    public static Plan plan(int size, String digest, List<Member> members, int booting, int waitingBuilds) {
        List<String> stale = new ArrayList<>();
        int fresh = 0;
        for (Member m : members) {
            if (m.templateDigest().equals(digest) && fresh < size) {
                fresh++;
            } else {
                stale.add(m.vmId());
            }
        }
        int missing = Math.max(0, size - fresh - booting);
        return new Plan(waitingBuilds > 0 ? 0 : missing, List.copyOf(stale));
    }

    /** A template's pool size: 0 (none) to {@link #MAX_SIZE}. */
    public static int size(String field, int size) {
        if (size < 0 || size > MAX_SIZE) {
            throw new io.jenkins.plugins.qemu.engine.config.InvalidInputException(field, size,
                    "is out of range: use 0 (no pool) to " + MAX_SIZE);
        }
        return size;
    }
}
