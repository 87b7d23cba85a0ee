package io.jenkins.plugins.qemu.engine.vm;

import io.jenkins.plugins.qemu.engine.image.BaseImage;
import io.jenkins.plugins.qemu.engine.seed.CloudInitConfig;
import io.jenkins.plugins.qemu.engine.seed.GuestIdentity;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a validated spec and the files of one VM into QEMU's argv. Pure: no I/O, so the exact
 * command line is unit-tested. The device model is deliberately small: no default devices, no
 * display, virtio disk and network, the guest's identity (a seed CD-ROM or fw_cfg items),
 * the console to a file and QMP on an owner-only Unix socket.
 */
public final class QemuCommand {
    private QemuCommand() {}

    /** The per-VM files QEMU is pointed at. */
    public record Files(Path overlay, Path console, Path qmpSocket) {}

    public static List<String> build(Path qemu, VmSpec spec, BaseImage image, AccelDecision accel, Files files,
            GuestIdentity identity, boolean sandbox) {
        List<String> a = new ArrayList<>();
        a.add(qemu.toString());
        // The VM id on the command line is one of the proofs of ownership the reaper relies on.
        a.add("-name");
        a.add(spec.vmId() + ",process=qemu-" + spec.vmId());
        a.add("-nodefaults");
        a.add("-no-user-config");
        a.add("-display");
        a.add("none");
        a.add("-machine");
        a.add(spec.machine());
        a.addAll(accel.qemuArgs());
        a.add("-smp");
        a.add(Integer.toString(spec.cpus()));
        a.add("-m");
        a.add(spec.memoryMiB() + "M");
        image.kernelPath().ifPresent(k -> {
            a.add("-kernel");
            a.add(k.toString());
        });
        image.initrdPath().ifPresent(i -> {
            a.add("-initrd");
            a.add(i.toString());
        });
        if (image.kernel() != null) {
            String append = (image.kernelAppend().orElse("") + " " + identity.kernelArgs()).strip();
            if (!append.isEmpty()) {
                a.add("-append");
                a.add(append);
            }
        }
        // cache=unsafe: the overlay dies with the VM, so flushing it to stable storage buys nothing.
        a.add("-drive");
        a.add("file=" + escape(files.overlay()) + ",if=none,id=disk0,format=qcow2,cache=unsafe,discard=unmap");
        a.add("-device");
        a.add("virtio-blk-pci,drive=disk0");
        a.addAll(identity.qemuArgs());
        // Port 0: QEMU binds a free port itself, so concurrent VMs never race for one; 127.0.0.1 only.
        a.add("-netdev");
        a.add("user,id=net0,hostfwd=tcp:127.0.0.1:0-:22");
        a.add("-device");
        a.add("virtio-net-pci,netdev=net0,mac=" + CloudInitConfig.GUEST_MAC);
        a.add("-device");
        a.add("virtio-rng-pci");
        a.add("-chardev");
        a.add("file,id=console0,path=" + escape(files.console()));
        a.add("-serial");
        a.add("chardev:console0");
        a.add("-qmp");
        a.add("unix:" + escape(files.qmpSocket()) + ",server=on,wait=off");
        if (sandbox) {
            a.add("-sandbox");
            a.add("on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
        }
        return List.copyOf(a);
    }

    /** QEMU's option parser splits on commas; a literal comma is written twice. */
    static String escape(Path p) {
        return p.toString().replace(",", ",,");
    }
}
