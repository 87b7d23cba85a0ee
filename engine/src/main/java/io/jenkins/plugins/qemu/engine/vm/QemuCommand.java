package io.jenkins.plugins.qemu.engine.vm;

import io.jenkins.plugins.qemu.engine.config.QemuArgs;
import io.jenkins.plugins.qemu.engine.image.BaseImage;
import io.jenkins.plugins.qemu.engine.image.GuestProtocol;
import io.jenkins.plugins.qemu.engine.net.GuestNetwork;
import io.jenkins.plugins.qemu.engine.state.VmDir;
import io.jenkins.plugins.qemu.engine.seed.CloudInitConfig;
import io.jenkins.plugins.qemu.engine.seed.FwCfgIdentity;
import io.jenkins.plugins.qemu.engine.seed.GuestIdentity;
import io.jenkins.plugins.qemu.engine.seed.SeedIso;
import io.jenkins.plugins.qemu.engine.usage.UsageProbe;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a validated spec and the files of one VM into QEMU's argv. Pure: no I/O, so the exact
 * command line is unit-tested. The device model is deliberately small: no default devices, no
 * display, virtio disk and network (its backend set by the egress policy, see GuestNetwork), the
 * guest's identity (a seed CD-ROM or fw_cfg items), a balloon for the guest's memory statistics,
 * the console to a file and QMP on an owner-only Unix socket.
 */
public final class QemuCommand {
    /** Tells the image's units that this boot will be saved as a warm snapshot. */
    public static final String WARM_KERNEL_ARG = "qemu-agents.warm=1";

    /**
     * Added under TCG to every direct kernel boot: an emulated CPU starved by a loaded host can
     * miss the kernel's early check that the timer interrupt arrives, and the kernel then panics
     * ("IO-APIC + timer doesn't work"), as a stock Debian 13 kernel did here under a load of 20.
     * The check guards against broken hardware, which QEMU's timer is not.
     */
    public static final String TCG_KERNEL_ARGS = "no_timer_check";

    private QemuCommand() {}

    /** The per-VM files QEMU is pointed at; {@code netSocket} is the network helper's, if the policy has one. */
    public record Files(Path overlay, Path console, Path qmpSocket, Path netSocket) {
        /** With the helper's socket beside the QMP socket, in the VM's folder. */
        public Files(Path overlay, Path console, Path qmpSocket) {
            this(overlay, console, qmpSocket, qmpSocket.resolveSibling(VmDir.NET_SOCKET));
        }
    }

    /**
     * The extra device model of a VM that is saved as, or restored from, a warm snapshot: a
     * virtio-serial port for the clone's identity (host end: a Unix socket in the VM's owner-only
     * folder), a VM generation id, which makes the guest kernel reseed its RNG on restore, and
     * free page reporting on the balloon every VM has (it never inflates).
     * Both the saved and the restoring QEMU must have exactly these devices; {@code seedDrive}
     * says the saved one also had the seed's CD-ROM drive, which the restoring one gets empty.
     */
    public record Warm(Path identitySocket, boolean restore, boolean seedDrive) {}

    public static List<String> build(Path qemu, VmSpec spec, BaseImage image, AccelDecision accel, Files files,
            GuestIdentity identity, boolean sandbox) {
        return build(qemu, spec, image, accel, files, identity, sandbox, null);
    }

    /** With {@code warm} set: see {@link Warm}; a restore takes the identity from the port, not from {@code identity}. */
    public static List<String> build(Path qemu, VmSpec spec, BaseImage image, AccelDecision accel, Files files,
            GuestIdentity identity, boolean sandbox, Warm warm) {
        boolean restore = warm != null && warm.restore();
        List<String> a = new ArrayList<>();
        a.add(qemu.toString());
        // The VM id on the command line is one of the proofs of ownership the reaper relies on.
        // Named threads ("CPU 0/TCG") let `ps` find the vCPUs in /proc without the owner's QMP.
        a.add("-name");
        a.add(spec.vmId() + ",process=qemu-" + spec.vmId() + ",debug-threads=on");
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
            String identityArgs = !restore ? identity.kernelArgs() : warm.seedDrive() ? "" : FwCfgIdentity.KERNEL_ARGS;
            String append = java.util.stream.Stream.of(image.kernelAppend().orElse(""), identityArgs, warm != null ? WARM_KERNEL_ARG : "",
                            accel.accel() == Accel.TCG && !image.kernelAppend().orElse("").contains(TCG_KERNEL_ARGS) ? TCG_KERNEL_ARGS : "")
                    .filter(w -> !w.isBlank()).collect(java.util.stream.Collectors.joining(" "));
            if (!append.isEmpty()) {
                a.add("-append");
                a.add(append);
            }
        }
        // cache=unsafe: the overlay dies with the VM, so flushing it to stable storage buys nothing.
        a.add("-drive");
        a.add("file=" + QemuArgs.escape(files.overlay()) + ",if=none,id=disk0,format=qcow2,cache=unsafe,discard=unmap");
        a.add("-device");
        a.add("virtio-blk-pci,drive=disk0");
        if (!restore) {
            a.addAll(identity.qemuArgs());
        } else if (warm.seedDrive()) {
            a.addAll(SeedIso.emptyDriveArgs());
        }
        a.addAll(GuestNetwork.qemuArgs(spec.egress(), files.netSocket(), CloudInitConfig.GUEST_MAC));
        a.add("-device");
        a.add("virtio-rng-pci");
        a.add("-chardev");
        a.add("file,id=console0,path=" + QemuArgs.escape(files.console()));
        a.add("-serial");
        a.add("chardev:console0");
        if (warm != null) {
            a.add("-device");
            a.add("virtio-serial-pci,id=vser0");
            a.add("-chardev");
            a.add("socket,id=ident0,path=" + QemuArgs.escape(warm.identitySocket()) + ",server=on,wait=off");
            a.add("-device");
            a.add("virtserialport,bus=vser0.0,chardev=ident0,name=" + GuestProtocol.IDENTITY_PORT);
            a.add("-device");
            a.add("vmgenid,guid=auto");
        }
        // Every VM has a balloon, for the guest's memory statistics (UsageProbe); it never inflates.
        // Added last among the devices, so a warm VM's device model (and with it every saved
        // snapshot's) is exactly what it was before cold boots had one. On warm VMs, free page
        // reporting: the guest hands back free memory in 2 MiB blocks and QEMU drops it, so the
        // pages the snapshot boot used and freed are neither saved nor loaded, and a clone's host
        // memory shrinks again when its build frees memory.
        a.add("-device");
        a.add("virtio-balloon-pci,id=" + UsageProbe.BALLOON_ID + (warm != null ? ",free-page-reporting=on" : ""));
        if (restore) {
            // Loading waits for migrate-incoming: QEMU's main loop (and with it QMP) is busy while it
            // reads the state, so the port is read first. -S keeps the guest paused after loading.
            a.add("-S");
            a.add("-incoming");
            a.add("defer");
        }
        a.add("-qmp");
        a.add("unix:" + QemuArgs.escape(files.qmpSocket()) + ",server=on,wait=off");
        if (sandbox) {
            a.add("-sandbox");
            a.add("on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
        }
        return List.copyOf(a);
    }

}
