package io.jenkins.plugins.qemu.engine.seed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.ssh.SshKeyPair;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

class CloudInitConfigTest {
    private final SshKeyPair hostKey = SshKeyPair.generate("root@h");
    private final SshKeyPair clientKey = SshKeyPair.generate("c");

    @SuppressWarnings("unchecked")
    private static Map<String, Object> parse(byte[] yaml) {
        return (Map<String, Object>) new Yaml(new SafeConstructor(new LoaderOptions())).load(new String(yaml, StandardCharsets.UTF_8));
    }

    @Test
    @SuppressWarnings("unchecked")
    void userDataCarriesUserKeysAndPinnedHostKey() {
        CloudInitConfig c = new CloudInitConfig("qa-1", "qa-1", "jenkins", clientKey.publicKeyLine(), hostKey, true, "packages: [git]");
        byte[] raw = c.userData();
        assertTrue(new String(raw, StandardCharsets.UTF_8).startsWith("#cloud-config\n"));
        Map<String, Object> doc = parse(raw);
        Map<String, Object> user = ((List<Map<String, Object>>) doc.get("users")).get(0);
        assertEquals("jenkins", user.get("name"));
        assertEquals(List.of(clientKey.publicKeyLine()), user.get("ssh_authorized_keys"));
        assertEquals(true, user.get("lock_passwd"));
        Map<String, Object> keys = (Map<String, Object>) doc.get("ssh_keys");
        assertEquals(hostKey.privateKeyOpenSsh(), keys.get("ed25519_private"));
        assertEquals(hostKey.publicKeyLine(), keys.get("ed25519_public"));
        assertEquals(List.of(), doc.get("ssh_genkeytypes"));
        assertEquals(false, doc.get("ssh_pwauth"));
        assertEquals(List.of("git"), doc.get("packages"));
        assertTrue(hostKey.privateKeyOpenSsh().startsWith("-----BEGIN OPENSSH PRIVATE KEY-----"));
    }

    @Test
    void metaDataHasInstanceIdAndHostname() {
        Map<String, Object> doc = parse(new CloudInitConfig("qa-77", "build-host", "jenkins", "ssh-ed25519 AAAA x", hostKey, false, null).metaData());
        assertEquals(Map.of("instance-id", "qa-77", "local-hostname", "build-host"), doc);
    }

    @ParameterizedTest
    @ValueSource(strings = {"- a\n- list", "just a string", "key: [unclosed", "a: 1\na: 2", "users: []",
            "ssh_keys: {}", "ssh_authorized_keys: [x]", "disable_root: false", "chpasswd: {expire: false}", "1: numeric key"})
    void rejectsExtraUserDataThatIsNotCloudConfigOrTouchesOurKeys(String extra) {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> new CloudInitConfig("i", "h", "jenkins", "k", hostKey, true, extra));
        assertEquals("extraUserData", e.field());
    }

    @Test
    void valuesCannotInjectYaml() {
        // A malicious authorized key string stays one scalar: the emitter quotes it.
        String evil = "ssh-ed25519 AAAA x\nssh_pwauth: true\nusers: [{name: root}]";
        Map<String, Object> doc = parse(new CloudInitConfig("i", "h", "jenkins", evil, hostKey, true, null).userData());
        assertEquals(false, doc.get("ssh_pwauth"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> users = (List<Map<String, Object>>) doc.get("users");
        assertEquals(1, users.size());
        assertEquals(List.of(evil), users.get(0).get("ssh_authorized_keys"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void networkIsStaticOnTheUserModeSubnetAndNamedByMac() {
        Map<String, Object> doc = parse(new CloudInitConfig("i", "h", "jenkins", "k", hostKey, true, null).networkConfig());
        assertEquals(1, doc.get("version"));
        Map<String, Object> nic = ((List<Map<String, Object>>) doc.get("config")).get(0);
        assertEquals(CloudInitConfig.GUEST_MAC, nic.get("mac_address"));
        Map<String, Object> subnet = ((List<Map<String, Object>>) nic.get("subnets")).get(0);
        assertEquals("10.0.2.15/24", subnet.get("address"));
        assertEquals("10.0.2.2", subnet.get("gateway"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void onlyTheNeededModulesRunUnlessExtraCloudConfigIsGiven() {
        Map<String, Object> minimal = parse(new CloudInitConfig("i", "h", "jenkins", "k", hostKey, true, null).userData());
        assertTrue(((List<String>) minimal.get("cloud_init_modules")).containsAll(List.of("users-groups", "ssh", "set_hostname")));
        assertEquals(List.of(), minimal.get("cloud_config_modules"));
        Map<String, Object> full = parse(new CloudInitConfig("i", "h", "jenkins", "k", hostKey, true, "runcmd: [[true]]").userData());
        assertTrue(!full.containsKey("cloud_config_modules"), "with extra cloud-config the image's module lists apply");
    }

    @Test
    @SuppressWarnings("unchecked")
    void aGrownDiskRunsTheResizeModulesEvenInTheMinimalList() {
        Map<String, Object> grown = parse(new CloudInitConfig("i", "h", "jenkins", "k", hostKey, true, null, true).userData());
        List<String> modules = (List<String>) grown.get("cloud_init_modules");
        assertEquals(List.of("growpart", "resizefs"), modules.subList(0, 2), modules.toString());
        assertTrue(modules.containsAll(List.of("users-groups", "ssh", "set_hostname")), modules.toString());
        assertEquals(true, grown.get("resize_rootfs"));

        Map<String, Object> same = parse(new CloudInitConfig("i", "h", "jenkins", "k", hostKey, true, null, false).userData());
        assertFalse(((List<String>) same.get("cloud_init_modules")).contains("resizefs"), "no resize for an image-sized disk");
        assertFalse(same.containsKey("resize_rootfs"));
    }

    @Test
    void withExtraCloudConfigTheImagesModulesResizeAndAnExplicitChoiceStands() {
        Map<String, Object> extra = parse(new CloudInitConfig("i", "h", "jenkins", "k", hostKey, true, "runcmd: [[true]]", true).userData());
        assertFalse(extra.containsKey("cloud_init_modules"), "the image's own lists, which carry growpart and resizefs");
        assertEquals(true, extra.get("resize_rootfs"));
        Map<String, Object> off = parse(new CloudInitConfig("i", "h", "jenkins", "k", hostKey, true, "resize_rootfs: false", true).userData());
        assertEquals(false, off.get("resize_rootfs"), "the administrator's own setting is kept");
    }

    @Test
    void emptyExtraIsFineAndHeaderLineIsAllowed() {
        new CloudInitConfig("i", "h", "jenkins", "k", hostKey, true, "  ");
        new CloudInitConfig("i", "h", "jenkins", "k", hostKey, true, "#cloud-config\nruncmd: [[touch, /tmp/x]]");
    }
}
