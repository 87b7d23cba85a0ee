package io.jenkins.plugins.qemu.engine.seed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.net.EgressPolicy;
import io.jenkins.plugins.qemu.engine.net.GuestNetwork;
import io.jenkins.plugins.qemu.engine.ssh.SshKeyPair;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The credentials' text; that a real guest applies it is StockImageCredentialsTest's job. */
class SystemdCredentialsTest {
    @TempDir
    Path tmp;

    private final SshKeyPair hostKey = SshKeyPair.generate("root@h1");

    @Test
    void tmpfilesCarryEveryValueAsBase64AndTheHostKeyWeGenerated() {
        Map<String, String> c = SystemdCredentials.contents("h1", "jenkins", "ssh-ed25519 AAAA k", hostKey, true, null);
        assertEquals("u jenkins - \"build agent\" /home/jenkins /bin/bash\n", c.get("sysusers.extra"));
        List<String> lines = c.get("tmpfiles.extra").lines().toList();
        assertEquals("ssh-ed25519 AAAA k\n", decoded(lines, "f~ /home/jenkins/.ssh/authorized_keys 0600 jenkins jenkins - "));
        assertEquals(hostKey.privateKeyOpenSsh(), decoded(lines, "f~ /etc/ssh/ssh_host_ed25519_key 0600 root root - "));
        assertEquals(hostKey.publicKeyLine() + "\n", decoded(lines, "f~ /etc/ssh/ssh_host_ed25519_key.pub 0644 root root - "));
        assertEquals("jenkins ALL=(ALL) NOPASSWD:ALL\n", decoded(lines, "f~ /etc/sudoers.d/90-qemu-agents 0440 root root - "));
        assertEquals("127.0.1.1 h1\n", decoded(lines, "w+~ /etc/hosts - - - - "));
        assertTrue(lines.contains("r /etc/ssh/ssh_host_rsa_key"), "the image's other host keys go");
        // Every line is one tmpfiles item: no value reaches the file unencoded.
        assertTrue(lines.stream().allMatch(l -> l.matches("[dfrw][+~]* /\\S+( .*)?") && !l.contains("PRIVATE KEY")), lines.toString());
        String net = c.get(SystemdCredentials.NETWORK_CREDENTIAL);
        assertTrue(net.contains("MACAddress=" + CloudInitConfig.GUEST_MAC + "\n") && net.contains("Address=10.0.2.15/24\n"), net);
        assertTrue(net.contains("Gateway=10.0.2.2\n"), "without an egress NIC the SSH NIC keeps the default route: " + net);
        assertFalse(c.containsKey(SystemdCredentials.EGRESS_CREDENTIAL));
    }

    @Test
    void withAnEgressNicItsNetworkTakesTheDefaultRouteAndTheResolverAlone() {
        String egress = GuestNetwork.networkdEgress(EgressPolicy.DEFAULT);
        Map<String, String> c = SystemdCredentials.contents("h1", "jenkins", "ssh-ed25519 AAAA k", hostKey, true, egress);
        assertEquals(egress, c.get(SystemdCredentials.EGRESS_CREDENTIAL));
        assertTrue(egress.contains("Gateway=10.0.3.2\n") && egress.contains("DNS=10.0.3.3\n"), egress);
        String net = c.get(SystemdCredentials.NETWORK_CREDENTIAL);
        assertTrue(net.contains("Address=10.0.2.15/24\n") && !net.contains("Gateway=") && !net.contains("DNS="),
                "two default routes of equal metric would leave the choice to chance: " + net);
        assertTrue((SystemdCredentials.PREFIX + SystemdCredentials.EGRESS_CREDENTIAL).length() <= SystemdCredentials.FW_CFG_NAME_MAX);
        assertEquals(null, GuestNetwork.networkdEgress(EgressPolicy.NONE));
    }

    @Test
    void theKvmModulesAreSparedUnderTcgOnlyInTheOneBlacklist() throws Exception {
        try (SystemdCredentials tcg = SystemdCredentials.write(tmp.resolve("t"), "h1", "jenkins", "k", hostKey, true, null, true);
                SystemdCredentials kvm = SystemdCredentials.write(tmp.resolve("k"), "h1", "jenkins", "k", hostKey, true, null, false)) {
            List<String> t = List.of(tcg.kernelArgs().split(" "));
            List<String> k = List.of(kvm.kernelArgs().split(" "));
            assertEquals(1, t.stream().filter(w -> w.startsWith("modprobe.blacklist=")).count(), t.toString());
            assertTrue(t.contains("modprobe.blacklist=floppy,ata_piix,ata_generic,psmouse,serio_raw,pcspkr,i2c_piix4,kvm,kvm_amd,kvm_intel"),
                    t.toString());
            assertTrue(k.contains("modprobe.blacklist=floppy,ata_piix,ata_generic,psmouse,serio_raw,pcspkr,i2c_piix4"), k.toString());
            // rw must come after the image's ro, which QemuCommand puts first: the last of the two wins.
            assertTrue(t.contains("rw") && t.contains("quiet") && t.contains("systemd.getty_auto=0"), t.toString());
        }
    }

    @Test
    void withoutSudoThereIsNoSudoersEntry() {
        String t = SystemdCredentials.contents("h1", "jenkins", "ssh-ed25519 AAAA k", hostKey, false, null).get("tmpfiles.extra");
        assertFalse(t.contains("sudoers"), t);
    }

    @Test
    void ownerOnlyFilesAsFwCfgItemsRemovedOnClose() throws Exception {
        Path dir = tmp.resolve("identity");
        try (SystemdCredentials id = SystemdCredentials.write(dir, "h1", "jenkins", "ssh-ed25519 AAAA k", hostKey, true, null, false)) {
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
            assertTrue(id.qemuArgs().contains("name=opt/io.systemd.credentials/tmpfiles.extra,file=" + dir.resolve("tmpfiles.extra")),
                    id.qemuArgs().toString());
            assertEquals(3 * 2, id.qemuArgs().size(), "users, files and network, each one -fw_cfg item");
            for (String a : id.qemuArgs()) {
                if (a.startsWith("name=")) {
                    String name = a.substring(5, a.indexOf(",file="));
                    assertTrue(name.length() <= SystemdCredentials.FW_CFG_NAME_MAX, "QEMU refuses longer fw_cfg names: " + name);
                }
            }
            try (var files = Files.list(dir)) {
                files.forEach(f -> assertEquals("rw-------", perms(f), f.toString()));
            }
            assertEquals("cloud-init=disabled systemd.hostname=h1 " + SystemdCredentials.SPARED + " quiet", id.kernelArgs());
        }
        assertFalse(Files.exists(dir), "closing removes the credentials and their folder");
    }

    @Test
    void aUserOrHostNameThatCouldAddALineIsRefused() {
        assertThrows(InvalidInputException.class,
                () -> SystemdCredentials.write(tmp.resolve("a"), "h1", "jenkins\nu root", "k", hostKey, true, null, true));
        assertThrows(InvalidInputException.class,
                () -> SystemdCredentials.write(tmp.resolve("b"), "h1 x", "jenkins", "k", hostKey, true, null, true));
        assertFalse(Files.exists(tmp.resolve("a")) || Files.exists(tmp.resolve("b")), "nothing written for a refused value");
    }

    private static String decoded(List<String> lines, String prefix) {
        String line = lines.stream().filter(l -> l.startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no line " + prefix + " in " + lines));
        return new String(Base64.getDecoder().decode(line.substring(prefix.length())), StandardCharsets.UTF_8);
    }

    private static String perms(Path f) {
        try {
            return PosixFilePermissions.toString(Files.getPosixFilePermissions(f));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
