package io.jenkins.plugins.qemu.engine.cloud;

import java.util.Objects;
import java.util.Set;

/**
 * What the cloud last learnt of a host by asking it: whether it can run VMs at all
 * ({@code unusable} says why not, null when it can: QEMU missing, a state directory it cannot use),
 * which images it holds, and the machine's size, which a budget of 0 stands for.
 */
public record HostFacts(String unusable, Set<String> images, int machineCpus, long machineMemoryMiB) {

    public HostFacts {
        images = Set.copyOf(Objects.requireNonNull(images, "images"));
        if (unusable == null && (machineCpus < 1 || machineMemoryMiB < 1)) {
            throw new IllegalArgumentException("a usable host has CPUs and memory: " + machineCpus + ", " + machineMemoryMiB + "M");
        }
    }

    /** A host that answered and can run VMs of these images. */
    public static HostFacts usable(Set<String> images, int machineCpus, long machineMemoryMiB) {
        return new HostFacts(null, images, machineCpus, machineMemoryMiB);
    }

    /** A host that answered but cannot run VMs, and why. */
    public static HostFacts unusable(String why) {
        return new HostFacts(Objects.requireNonNull(why, "why"), Set.of(), 0, 0);
    }
}
