package io.jenkins.plugins.qemu.engine.host;

import io.jenkins.plugins.qemu.engine.cloud.HostFacts;
import java.io.Serializable;
import java.util.HashSet;
import java.util.List;

/**
 * What a host answers to a probe: whether it can run VMs ({@code unusable} says why not, null when
 * it can), the images in its catalog, the machine's size (what a budget of 0 stands for), the VMs
 * it runs for this owner, and the VMs its engine removed when it opened (what a host that came
 * back after losing its agent had left running).
 */
public record HostReport(String host, String unusable, List<String> images, int machineCpus, long machineMemoryMiB,
        List<VmSummary> vms, List<String> reapedAtStart) implements Serializable {
    private static final long serialVersionUID = 1L;

    public HostReport {
        images = List.copyOf(images);
        vms = List.copyOf(vms);
        reapedAtStart = List.copyOf(reapedAtStart);
    }

    /** What placement needs of this answer. */
    public HostFacts facts() {
        return unusable != null ? HostFacts.unusable(unusable) : HostFacts.usable(new HashSet<>(images), machineCpus, machineMemoryMiB);
    }
}
