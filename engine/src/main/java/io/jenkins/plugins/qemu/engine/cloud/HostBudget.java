package io.jenkins.plugins.qemu.engine.cloud;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import java.util.Objects;

/**
 * What one host may give the cloud's VMs together: at most {@code instanceCap} VMs, {@code cpus}
 * vCPUs and {@code memoryMiB} of guest memory. 0 for {@code cpus} or {@code memoryMiB} means "the
 * machine's own size", as the host reports it when it is probed; 0 for the cap means no cap of its
 * own. Validated here, once, with the field named in the error.
 */
public record HostBudget(String host, int instanceCap, int cpus, long memoryMiB) {

    public HostBudget {
        Objects.requireNonNull(host, "host");
        if (host.isBlank()) {
            throw new InvalidInputException("host", host, "must name a host");
        }
        if (instanceCap < 0) {
            throw new InvalidInputException("instanceCap", instanceCap, "must be 0 (no cap of its own) or more");
        }
        if (cpus < 0) {
            throw new InvalidInputException("hostCpus", cpus, "must be 0 (the machine's own CPUs) or more");
        }
        if (memoryMiB < 0) {
            throw new InvalidInputException("hostMemory", memoryMiB + "M", "must be 0 (the machine's own memory) or more");
        }
    }

    /** A host that may use the whole machine. */
    public static HostBudget machine(String host) {
        return new HostBudget(host, 0, 0, 0);
    }

    /** The vCPUs VMs may take here, given the machine's own count. */
    int cpusGiven(HostFacts facts) {
        return cpus > 0 ? cpus : facts.machineCpus();
    }

    /** The memory VMs may take here, given the machine's own size. */
    long memoryGiven(HostFacts facts) {
        return memoryMiB > 0 ? memoryMiB : facts.machineMemoryMiB();
    }
}
