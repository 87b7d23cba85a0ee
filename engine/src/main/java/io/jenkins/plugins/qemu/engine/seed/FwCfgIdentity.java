package io.jenkins.plugins.qemu.engine.seed;

import io.jenkins.plugins.qemu.engine.ssh.SshKeyPair;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fast path: the VM's identity as QEMU fw_cfg items, read at boot by the {@code
 * qemu-agents-fastpath} unit that images built by {@code images/build-debian-12.sh} carry.
 * cloud-init is switched off on the kernel command line for such a boot, which spares the guest
 * two Python start-ups (the larger part of a boot under TCG). Values are passed as owner-only
 * files, never as strings on QEMU's command line, where any local user could read them; inside
 * the guest, fw_cfg is readable by root only.
 */
public final class FwCfgIdentity implements GuestIdentity {
    /** fw_cfg names live under opt/ and an owner prefix, as QEMU's documentation asks. */
    public static final String PREFIX = "opt/io.jenkins.qemu-agents/";
    /** Switches cloud-init off and the image's fast-path unit on. */
    public static final String KERNEL_ARGS = "cloud-init=disabled qemu-agents.fastpath=1";

    private final OwnerOnlyItems items;

    private FwCfgIdentity(OwnerOnlyItems items) {
        this.items = items;
    }

    public static FwCfgIdentity write(Path dir, String hostname, String user, String authorizedKey, SshKeyPair hostKey,
            boolean sudo) throws IOException {
        return write(dir, hostname, user, authorizedKey, hostKey, sudo, false);
    }

    /**
     * As above; {@code growFs} says the disk is larger than the image, and the guest's unit then
     * grows the root filesystem to fill it. The unit tests only whether the item exists.
     */
    public static FwCfgIdentity write(Path dir, String hostname, String user, String authorizedKey, SshKeyPair hostKey,
            boolean sudo, boolean growFs) throws IOException {
        Map<String, String> values = items(hostname, user, authorizedKey, hostKey);
        values.put("sudo", sudo ? "yes" : "no");
        if (growFs) {
            values.put("grow_fs", "yes");
        }
        return new FwCfgIdentity(OwnerOnlyItems.write(dir, values, PREFIX));
    }

    /**
     * The items both identity channels of our images carry, under the names the guest scripts
     * read (images/build-debian-12.sh): the fast path at boot, the clone identity after a restore.
     */
    public static Map<String, String> items(String hostname, String user, String authorizedKey, SshKeyPair hostKey) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("hostname", hostname);
        values.put("user", user);
        values.put("authorized_key", authorizedKey + "\n");
        values.put("host_key", hostKey.privateKeyOpenSsh());
        values.put("host_key.pub", hostKey.publicKeyLine() + "\n");
        return values;
    }

    @Override
    public List<String> qemuArgs() {
        return items.qemuArgs();
    }

    @Override
    public String kernelArgs() {
        return KERNEL_ARGS;
    }

    @Override
    public void close() throws IOException {
        items.close();
    }
}
