package io.jenkins.plugins.qemu.engine.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.QemuArgs;
import io.jenkins.plugins.qemu.engine.image.BaseImage;
import io.jenkins.plugins.qemu.engine.seed.FwCfgIdentity;
import io.jenkins.plugins.qemu.engine.seed.GuestIdentity;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class QemuCommandTest {
    private final BaseImage image = new BaseImage("debian-12", Path.of("/img/debian-12/disk.qcow2"), "qcow2",
            Path.of("/img/debian-12/vmlinuz"), Path.of("/img/debian-12/initrd.img"), "root=/dev/vda console=ttyS0", "debian", true);
    private final QemuCommand.Files files = new QemuCommand.Files(Path.of("/s/qa-1/overlay.qcow2"),
            Path.of("/s/qa-1/console.log"), Path.of("/s/qa-1/qmp.sock"));
    private final GuestIdentity seed = new GuestIdentity() {
        @Override
        public List<String> qemuArgs() {
            return List.of("-drive", "file=/s/qa-1/seed.iso,if=none,id=seed0,format=raw,media=cdrom,readonly=on");
        }

        @Override
        public String kernelArgs() {
            return "";
        }

        @Override
        public void close() {
        }
    };

    @Test
    void commandLineCarriesIdAndLoopbackOnlyForward() {
        VmSpec spec = VmSpec.builder().vmId("qa-0123456789").image("debian-12").cpus(2).memoryMiB(1536).build();
        List<String> argv = QemuCommand.build(Path.of("/usr/bin/qemu-system-x86_64"), spec, image,
                new AccelDecision(Accel.TCG, "test"), files, seed, true);
        assertEquals("/usr/bin/qemu-system-x86_64", argv.get(0));
        assertEquals("qa-0123456789,process=qemu-qa-0123456789,debug-threads=on", after(argv, "-name"));
        // The SSH NIC carries nothing but the forward; the default policy's egress is a second NIC on passt.
        assertEquals("user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:0-:22", after(argv, "-netdev"));
        assertTrue(argv.contains("stream,id=egress0,server=off,addr.type=unix,addr.path=/s/qa-1/net.sock"), argv.toString());
        assertEquals("2", after(argv, "-smp"));
        assertEquals("1536M", after(argv, "-m"));
        assertEquals("tcg,tb-size=64,thread=single", after(argv, "-accel"),
                "a bounded translation cache, and vCPUs in one thread so JIT code patching cannot tear; see AccelDecision");
        assertEquals("/img/debian-12/vmlinuz", after(argv, "-kernel"));
        // Under TCG the kernel skips its timer check, which a starved emulated CPU can fail.
        assertEquals("root=/dev/vda console=ttyS0 no_timer_check", after(argv, "-append"));
        assertEquals("unix:/s/qa-1/qmp.sock,server=on,wait=off", after(argv, "-qmp"));
        assertTrue(argv.contains("-nodefaults"));
        assertTrue(argv.contains("-sandbox"));
        assertTrue(argv.stream().anyMatch(a -> a.startsWith("file=/s/qa-1/seed.iso,") && a.contains("media=cdrom") && a.contains("readonly=on")));
        assertFalse(argv.contains("-cpu"), "TCG keeps QEMU's default CPU model");
    }

    @Test
    void everyVmHasABalloonAndAWarmVmsDevicesAreThoseItsSnapshotsWereSavedWith() {
        VmSpec spec = VmSpec.builder().vmId("qa-0123456789").image("debian-12").build();
        AccelDecision tcg = new AccelDecision(Accel.TCG, "t");
        List<String> cold = QemuCommand.build(Path.of("q"), spec, image, tcg, files, seed, true);
        assertEquals("virtio-balloon-pci,id=balloon0", devices(cold).get(devices(cold).size() - 1),
                "a cold VM's balloon, for the guest's memory statistics, reports no free pages");
        // Saved snapshots keep their key only if a warm VM's devices are what they were saved with,
        // in the same order (which decides their PCI slots).
        QemuCommand.Warm save = new QemuCommand.Warm(Path.of("/s/qa-1/ident.sock"), false, false);
        assertEquals(List.of("virtio-blk-pci,drive=disk0", "virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56",
                "virtio-net-pci,netdev=egress0,mac=52:54:00:12:34:57", "virtio-rng-pci", "virtio-serial-pci,id=vser0",
                "virtserialport,bus=vser0.0,chardev=ident0,name=io.jenkins.qemu-agents.0", "vmgenid,guid=auto",
                "virtio-balloon-pci,id=balloon0,free-page-reporting=on"),
                devices(QemuCommand.build(Path.of("q"), spec, image, tcg, files, seed, true, save)));
    }

    private static List<String> devices(List<String> argv) {
        return java.util.stream.IntStream.range(1, argv.size()).filter(i -> argv.get(i - 1).equals("-device"))
                .mapToObj(argv::get).toList();
    }

    @Test
    void egressNoneHasOnlyTheRestrictedSshNic() {
        VmSpec spec = VmSpec.builder().vmId("qa-0123456789").image("debian-12").egress("none").build();
        List<String> argv = QemuCommand.build(Path.of("q"), spec, image, new AccelDecision(Accel.TCG, "t"), files, seed, true);
        assertEquals(1, argv.stream().filter("-netdev"::equals).count(), argv.toString());
        assertEquals("user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:0-:22", after(argv, "-netdev"));
        assertFalse(argv.stream().anyMatch(a -> a.contains("net.sock")));
    }

    @Test
    void kvmUsesHostCpuAndSandboxCanBeOff() {
        VmSpec spec = VmSpec.builder().image("debian-12").build();
        List<String> argv = QemuCommand.build(Path.of("q"), spec, image, new AccelDecision(Accel.KVM, "probe"), files, seed, false);
        assertEquals("kvm", after(argv, "-accel"));
        assertEquals("host", after(argv, "-cpu"));
        assertFalse(argv.contains("-sandbox"));
        assertEquals("root=/dev/vda console=ttyS0", after(argv, "-append"), "under KVM the image's command line stays as it is");
    }

    @Test
    void fastPathIdentityAddsFwCfgItemsAndSwitchesCloudInitOff(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        VmSpec spec = VmSpec.builder().image("debian-12").build();
        try (FwCfgIdentity id = FwCfgIdentity.write(tmp.resolve("identity"), "h1", "jenkins", "ssh-ed25519 AAAA k",
                io.jenkins.plugins.qemu.engine.ssh.SshKeyPair.generate("h"), true)) {
            List<String> argv = QemuCommand.build(Path.of("q"), spec, image, new AccelDecision(Accel.TCG, "t"), files, id, true);
            assertEquals("root=/dev/vda console=ttyS0 cloud-init=disabled qemu-agents.fastpath=1 no_timer_check", after(argv, "-append"));
            assertTrue(argv.stream().anyMatch(a -> a.startsWith("name=opt/io.jenkins.qemu-agents/host_key,file=")), argv.toString());
            assertFalse(String.join(" ", argv).contains("BEGIN OPENSSH"), "secrets travel as files, not on the command line");
            assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                    java.nio.file.Files.getPosixFilePermissions(tmp.resolve("identity").resolve("host_key"))));
        }
        assertFalse(java.nio.file.Files.exists(tmp.resolve("identity")), "closing removes the items");
    }

    @Test
    void warmSnapshotBootsAndRestoresShareOneDeviceModel() {
        VmSpec spec = VmSpec.builder().vmId("qa-0123456789").image("debian-12").build();
        QemuCommand.Warm save = new QemuCommand.Warm(Path.of("/s/qa-1/ident.sock"), false, false);
        QemuCommand.Warm load = new QemuCommand.Warm(Path.of("/s/qa-1/ident.sock"), true, false);
        GuestIdentity fwCfg = new GuestIdentity() {
            @Override
            public List<String> qemuArgs() {
                return List.of("-fw_cfg", "name=opt/io.jenkins.qemu-agents/hostname,file=/s/qa-1/identity/hostname");
            }

            @Override
            public String kernelArgs() {
                return FwCfgIdentity.KERNEL_ARGS;
            }

            @Override
            public void close() {
            }
        };
        List<String> saved = QemuCommand.build(Path.of("q"), spec, image, new AccelDecision(Accel.TCG, "t"), files, fwCfg, true, save);
        List<String> restored = QemuCommand.build(Path.of("q"), spec, image, new AccelDecision(Accel.TCG, "t"), files, null, true, load);
        assertTrue(saved.contains("virtserialport,bus=vser0.0,chardev=ident0,name=io.jenkins.qemu-agents.0"), saved.toString());
        assertTrue(saved.contains("socket,id=ident0,path=/s/qa-1/ident.sock,server=on,wait=off"));
        assertTrue(saved.contains("vmgenid,guid=auto"), "a restored guest is told to reseed its RNG");
        assertTrue(saved.contains("virtio-balloon-pci,id=balloon0,free-page-reporting=on"), "free pages are neither saved nor kept");
        assertTrue(after(saved, "-append").endsWith(" qemu-agents.warm=1 no_timer_check"), after(saved, "-append"));
        assertFalse(saved.contains("-incoming"));
        // The restore has every device of the saved VM, and the seed's devices are not among them.
        assertEquals("defer", after(restored, "-incoming"), "loading starts with migrate-incoming, after the port is read");
        assertTrue(restored.contains("-S"), "paused until the port is known and cont is sent");
        assertEquals(after(saved, "-append"), after(restored, "-append"));
        List<String> devices = saved.stream().filter(a -> a.startsWith("virtio") || a.startsWith("vmgenid")).toList();
        assertEquals(devices, restored.stream().filter(a -> a.startsWith("virtio") || a.startsWith("vmgenid")).toList());
        assertFalse(restored.contains("-fw_cfg"), "a clone's identity comes over the port, not from the saved VM's items");
    }

    @Test
    void aSnapshotBootedWithASeedIsRestoredWithItsDriveEmpty(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        // A stock image: its snapshot boot took its identity (and our service) from a seed CD.
        BaseImage stock = new BaseImage("stock", Path.of("/img/stock/disk.qcow2"), "qcow2", Path.of("/img/stock/vmlinuz"),
                null, "root=/dev/vda1 ro", "debian", true);
        assertTrue(stock.snapshotBootUsesSeed());
        VmSpec spec = VmSpec.builder().vmId("qa-0123456789").image("stock").build();
        io.jenkins.plugins.qemu.engine.ssh.SshKeyPair key = io.jenkins.plugins.qemu.engine.ssh.SshKeyPair.generate("t");
        List<String> saved;
        try (io.jenkins.plugins.qemu.engine.seed.SeedIso realSeed = io.jenkins.plugins.qemu.engine.seed.SeedIso.write(
                new io.jenkins.plugins.qemu.engine.seed.CloudInitConfig("qa-1", "qa-1", "jenkins", key.publicKeyLine(), key, true, null)
                        .installingWarmStartService(), tmp.resolve("seed.iso"))) {
            saved = QemuCommand.build(Path.of("q"), spec, stock, new AccelDecision(Accel.TCG, "t"), files, realSeed, true,
                    new QemuCommand.Warm(Path.of("/s/qa-1/ident.sock"), false, false));
        }
        List<String> restored = QemuCommand.build(Path.of("q"), spec, stock, new AccelDecision(Accel.TCG, "t"), files, null, true,
                new QemuCommand.Warm(Path.of("/s/qa-1/ident.sock"), true, true));
        List<String> devices = saved.stream().filter(a -> a.startsWith("virtio") || a.startsWith("vmgenid") || a.startsWith("ide-cd")).toList();
        assertTrue(devices.contains("ide-cd,drive=seed0"), saved.toString());
        assertEquals(devices, restored.stream().filter(a -> a.startsWith("virtio") || a.startsWith("vmgenid") || a.startsWith("ide-cd")).toList());
        assertTrue(restored.contains("if=none,id=seed0,media=cdrom,readonly=on"), "the restore's drive has no disc: " + restored);
        assertFalse(String.join(" ", restored).contains("seed.iso"), "no seed, and so no secret of the saved VM, at restore");
        assertEquals("root=/dev/vda1 ro qemu-agents.warm=1 no_timer_check", after(saved, "-append"));
        assertEquals("type=1,serial=ds=nocloud", after(saved, "-smbios"), "cloud-init is told its datasource, no probing");
        assertEquals("root=/dev/vda1 ro qemu-agents.warm=1 no_timer_check", after(restored, "-append"));
    }

    @Test
    void commasInPathsAreEscapedForQemusOptionParser() {
        assertEquals("/a,,b/overlay.qcow2", QemuArgs.escape(Path.of("/a,b/overlay.qcow2")));
    }

    @Test
    void imageWithoutKernelBootsThroughFirmware() {
        BaseImage noKernel = new BaseImage("x", Path.of("/img/x/disk.qcow2"), "qcow2", null, null, null, null, true);
        List<String> argv = QemuCommand.build(Path.of("q"), VmSpec.builder().image("x").build(), noKernel,
                new AccelDecision(Accel.TCG, "t"), files, seed, true);
        assertFalse(argv.contains("-kernel"));
        assertFalse(argv.contains("-append"));
    }

    private static String after(List<String> argv, String flag) {
        int i = argv.indexOf(flag);
        assertTrue(i >= 0, flag + " missing from " + argv);
        return argv.get(i + 1);
    }
}
