package io.jenkins.plugins.qemu.engine.seed;

import io.jenkins.plugins.qemu.engine.config.Validation;
import io.jenkins.plugins.qemu.engine.ssh.SshKeyPair;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A stock image's cold boot without cloud-init: the VM's identity as systemd credentials, which
 * systemd (254 or newer) imports from QEMU fw_cfg items under {@code opt/io.systemd.credentials/}
 * at boot and applies with its own early units: {@code sysusers.extra} creates the agent user
 * (systemd-sysusers), {@code tmpfiles.extra} writes its authorized key, its sudoers entry, the host
 * key we pinned and the {@code /etc/hosts} line (systemd-tmpfiles-setup, before sshd starts), and
 * {@code network.network.*} states the SSH NIC's addresses for systemd-networkd. The host name goes
 * on the kernel command line ({@code systemd.hostname=}) with {@code cloud-init=disabled}. Under
 * TCG this spares the guest cloud-init's Python (the larger part of a stock image's boot) and
 * needs nothing of ours in the image; only images a boot found able to take it get it
 * ({@code ImageProbe#takesSystemdCredentials}). Values go into owner-only files, never onto QEMU's
 * command line, where any local user could read them; closing deletes them.
 */
public final class SystemdCredentials implements GuestIdentity {
    /** Where systemd looks for credentials among QEMU's fw_cfg items. */
    static final String PREFIX = "opt/io.systemd.credentials/";
    /**
     * Becomes {@code /run/systemd/network/05-qa.network}: sorts before the .network files of netplan
     * (10-netplan-*) and of most images, so ours matches the NIC first. Short, because QEMU takes
     * fw_cfg names of at most {@value #FW_CFG_NAME_MAX} characters, prefix included.
     */
    static final String NETWORK_CREDENTIAL = "network.network.05-qa";
    /** The egress NIC's .network file, when the VM has one; sorts right after the SSH NIC's. */
    static final String EGRESS_CREDENTIAL = "network.network.06-qa-egress";
    /** QEMU's limit on a fw_cfg item's name (FW_CFG_MAX_FILE_PATH less the terminating NUL). */
    static final int FW_CFG_NAME_MAX = 55;

    private final OwnerOnlyItems items;
    private final String hostname;
    private final boolean tcg;

    private SystemdCredentials(OwnerOnlyItems items, String hostname, boolean tcg) {
        this.items = items;
        this.hostname = hostname;
        this.tcg = tcg;
    }

    /**
     * Writes the credentials into {@code dir} (created 0700; the files 0600). {@code egressNetwork}:
     * the egress NIC's .network file (GuestNetwork#networkdEgress), null without one; {@code tcg}:
     * the guest's CPU is emulated (see {@link #TCG_SPARED}).
     */
    public static SystemdCredentials write(Path dir, String hostname, String user, String authorizedKey, SshKeyPair hostKey,
            boolean sudo, String egressNetwork, boolean tcg) throws IOException {
        Validation.hostname("hostname", hostname);
        Map<String, String> values = contents(hostname, Validation.userName("user", user), authorizedKey, hostKey, sudo, egressNetwork);
        return new SystemdCredentials(OwnerOnlyItems.write(dir, values, PREFIX), hostname, tcg);
    }

    /** The credentials by name; every value that is not ours is base64 in tmpfiles lines, so no value can add a line. */
    static Map<String, String> contents(String hostname, String user, String authorizedKey, SshKeyPair hostKey, boolean sudo,
            String egressNetwork) {
        Map<String, String> c = new LinkedHashMap<>();
        // No uid: sysusers picks a free one. An image that already has the user keeps it.
        c.put("sysusers.extra", "u " + user + " - \"build agent\" /home/" + user + " /bin/bash\n");
        StringBuilder t = new StringBuilder();
        String home = "/home/" + user;
        t.append("d ").append(home).append(" 0755 ").append(user).append(' ').append(user).append(" -\n");
        t.append("d ").append(home).append("/.ssh 0700 ").append(user).append(' ').append(user).append(" -\n");
        t.append(file(home + "/.ssh/authorized_keys", "0600", user, authorizedKey + "\n"));
        // The guest serves exactly the key we pinned: the image's other host keys go, none is generated.
        for (String type : List.of("rsa", "ecdsa", "dsa")) {
            t.append("r /etc/ssh/ssh_host_").append(type).append("_key\n");
            t.append("r /etc/ssh/ssh_host_").append(type).append("_key.pub\n");
        }
        t.append(file("/etc/ssh/ssh_host_ed25519_key", "0600", "root", hostKey.privateKeyOpenSsh()));
        t.append(file("/etc/ssh/ssh_host_ed25519_key.pub", "0644", "root", hostKey.publicKeyLine() + "\n"));
        if (sudo) {
            t.append(file("/etc/sudoers.d/90-qemu-agents", "0440", "root", user + " ALL=(ALL) NOPASSWD:ALL\n"));
        }
        // sudo and Java resolve the host name without DNS (cloud-init's manage_etc_hosts on the other path).
        t.append("w+~ /etc/hosts - - - - ").append(base64("127.0.1.1 " + hostname + "\n")).append('\n');
        c.put("tmpfiles.extra", t.toString());
        // QEMU's user-mode network has fixed addresses: stated, so there is no DHCP round. With an
        // egress NIC, the default route and the resolver are that NIC's alone (two default routes
        // of equal metric would leave the choice to the order they came up in).
        c.put(NETWORK_CREDENTIAL, "[Match]\nMACAddress=" + CloudInitConfig.GUEST_MAC + "\n\n[Network]\nAddress="
                + CloudInitConfig.GUEST_ADDRESS + "/24\n" + (egressNetwork == null ? "Gateway=" + CloudInitConfig.GATEWAY + "\nDNS="
                + CloudInitConfig.DNS + "\n" : "") + "LinkLocalAddressing=no\nIPv6AcceptRA=no\n");
        if (egressNetwork != null) {
            c.put(EGRESS_CREDENTIAL, egressNetwork);
        }
        return c;
    }

    private static String file(String path, String mode, String owner, String content) {
        return "f~ " + path + " " + mode + " " + owner + " " + owner + " - " + base64(content) + "\n";
    }

    private static String base64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public List<String> qemuArgs() {
        return items.qemuArgs();
    }

    /**
     * Boot work a throw-away agent never needs, spared on the kernel command line (the image is not
     * touched). Under TCG on one vCPU every process, module and mount competes with the units on
     * the way to sshd, so each of these is CPU time taken off the boot:
     * <ul>
     * <li>{@code fsck.mode=skip}, and {@code rw} after the image's {@code ro}: the root is a fresh
     * copy-on-write layer over an image shut down cleanly, so it is mounted writable at once; with
     * nothing to check, systemd-fsck-root is skipped, and the machine id systemd generates for the
     * image's empty one is written directly instead of being bind-mounted and committed later
     * (systemd-machine-id-commit).</li>
     * <li>No login prompts: {@code systemd.getty_auto=0} (the serial getty on the console, which is
     * a file QEMU writes: nobody can type into it) and getty@tty1 (a virtual terminal with no
     * display: QEMU gets {@code -display none} and no graphics device).</li>
     * <li>Mounts of debugfs, tracefs, hugetlbfs, the FUSE control filesystem and configfs (with its
     * module): kernel debugging, tracing, huge pages, aborting stuck FUSE connections and configfs
     * users (USB gadgets, LIO/nvmet targets) are not what a build agent does; FUSE itself works
     * without its control filesystem, and root can still mount any of them.</li>
     * <li>systemd-journal-catalog-update: the catalog only adds explanations to {@code journalctl -x}.
     * (ldconfig.service stays: an image may rely on it to refresh a stale linker cache.)</li>
     * <li>e2scrub_reap (a sweep for stale LVM snapshots), modprobe@drm (no display) and
     * modprobe@efi_pstore (the VM boots through SeaBIOS, not EFI).</li>
     * <li>{@code modprobe.blacklist=} for the drivers of the machine's built-in devices the engine
     * never uses, which the generic initrd and the root's udev would otherwise load (each module is
     * decompressed, checked and linked by the emulated CPU): floppy (no floppy drive), ata_piix and
     * ata_generic (the IDE controller has no drive: the disk is virtio, the identity fw_cfg),
     * psmouse, serio_raw and pcspkr (no input or sound anyone uses), i2c_piix4 (the SMBus).</li>
     * </ul>
     * Nothing of this changes what the agent gets: sshd, the network, the clock, sudo, Java
     * (StockImageCredentialsTest checks them on the stock image booted this way).
     */
    static final String SPARED = "fsck.mode=skip rw systemd.getty_auto=0 systemd.mask=getty@tty1.service"
            + " systemd.mask=sys-kernel-debug.mount systemd.mask=sys-kernel-tracing.mount systemd.mask=dev-hugepages.mount"
            + " systemd.mask=sys-fs-fuse-connections.mount systemd.mask=sys-kernel-config.mount systemd.mask=modprobe@configfs.service"
            + " systemd.mask=systemd-journal-catalog-update.service systemd.mask=e2scrub_reap.service"
            + " systemd.mask=modprobe@drm.service systemd.mask=modprobe@efi_pstore.service"
            + " modprobe.blacklist=floppy,ata_piix,ata_generic,psmouse,serio_raw,pcspkr,i2c_piix4";

    /**
     * Added to that blacklist under TCG only (one list: a single parameter leaves no doubt how
     * repeats would merge): KVM inside the guest. QEMU's default TCG CPU model offers AMD's SVM, so the
     * root's udev loads kvm, kvm_amd and the ccp module kvm_amd needs, large modules, for a nested
     * virtualisation no build would use on an emulated CPU. Under KVM it stays: a user may have
     * nested virtualisation on purpose.
     */
    static final String TCG_SPARED = ",kvm,kvm_amd,kvm_intel";

    @Override
    public String kernelArgs() {
        // quiet: the kernel's and systemd's progress lines go to an emulated UART, one trapped
        // port write per byte, about 50 KB a boot; errors, panics and failed units still print.
        return "cloud-init=disabled systemd.hostname=" + hostname + " " + SPARED + (tcg ? TCG_SPARED : "") + " quiet";
    }

    @Override
    public String toString() {
        return "systemd credentials " + items.dir();
    }

    @Override
    public void close() throws IOException {
        items.close();
    }
}
