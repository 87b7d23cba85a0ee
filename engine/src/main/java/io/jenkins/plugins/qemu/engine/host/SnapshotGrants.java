package io.jenkins.plugins.qemu.engine.host;

import java.io.IOException;
import io.jenkins.plugins.qemu.engine.vm.SnapshotBuildGate;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The warm-snapshot gate of a host's engine. A snapshot build is a whole VM, and on a host only
 * the controller can book it (against the cloud's cap and the host's budget), so the host's engine
 * builds a snapshot only while the controller holds such a booking and has said so with a
 * {@link BuildSnapshot}; the builds a boot would start in the background are refused, without
 * counting as failed attempts. A grant is for one snapshot boot of the VM's size and image.
 */
public final class SnapshotGrants implements SnapshotBuildGate {
    private final List<String> open = new ArrayList<>();

    @Override
    public synchronized Optional<AutoCloseable> admit(VmSpec prep) {
        return open.remove(shape(prep)) ? Optional.of(() -> { }) : Optional.empty();
    }

    /** Work that boots VMs: it may fail as a boot does, and nothing else. */
    @FunctionalInterface
    interface Work<T> {
        T run() throws IOException, InterruptedException;
    }

    /** Runs {@code work} with one snapshot boot of {@code spec}'s shape admitted; an unused grant is withdrawn after it. */
    <T> T granted(VmSpec spec, Work<T> work) throws IOException, InterruptedException {
        String shape = shape(spec);
        synchronized (this) {
            open.add(shape);
        }
        try {
            return work.run();
        } finally {
            synchronized (this) {
                open.remove(shape);
            }
        }
    }

    /** How many grants are open now; for tests. */
    synchronized int open() {
        return open.size();
    }

    private static String shape(VmSpec spec) {
        return spec.image() + " " + spec.cpus() + " vCPU " + spec.memoryMiB() + " MiB";
    }
}
