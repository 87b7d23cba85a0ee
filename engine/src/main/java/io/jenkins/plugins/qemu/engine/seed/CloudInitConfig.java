package io.jenkins.plugins.qemu.engine.seed;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.config.Validation;
import io.jenkins.plugins.qemu.engine.ssh.SshKeyPair;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.representer.Representer;

/**
 * The NoCloud documents for one VM: {@code meta-data} (a unique instance id and our host name) and
 * {@code user-data} (the agent user with our per-VM authorized key, and the guest host keys we
 * generated so the host key is known before the guest boots). Both are emitted by a YAML library
 * from maps, never by concatenating user values into YAML text, so no value can inject keys.
 */
public final class CloudInitConfig {
    /** Keys that carry our security decisions; extra user-data may not override them. */
    private static final Set<String> RESERVED = Set.of(
            "users", "ssh_keys", "ssh_authorized_keys", "ssh_deletekeys", "ssh_genkeytypes",
            "disable_root", "ssh_pwauth", "hostname", "fqdn", "chpasswd", "password");

    /** QEMU's user-mode network: guest, gateway and DNS addresses are fixed by QEMU itself. */
    public static final String GUEST_MAC = "52:54:00:12:34:56";
    static final String GUEST_ADDRESS = "10.0.2.15";
    static final String GATEWAY = "10.0.2.2";
    static final String DNS = "10.0.2.3";

    private final String instanceId;
    private final String hostname;
    private final String user;
    private final String authorizedKey;
    private final SshKeyPair hostKey;
    private final boolean sudo;
    private final Map<String, Object> extra;
    private final boolean growRoot;
    private final boolean warmSetup;

    public CloudInitConfig(String instanceId, String hostname, String user, String authorizedKey,
            SshKeyPair hostKey, boolean sudo, String extraUserData) {
        this(instanceId, hostname, user, authorizedKey, hostKey, sudo, extraUserData, false);
    }

    /** {@code growRoot}: the disk is larger than the image, so the root partition and filesystem are grown to fill it. */
    public CloudInitConfig(String instanceId, String hostname, String user, String authorizedKey,
            SshKeyPair hostKey, boolean sudo, String extraUserData, boolean growRoot) {
        this.instanceId = Validation.required("instanceId", instanceId);
        this.hostname = Validation.hostname("hostname", hostname);
        this.user = Validation.userName("user", user);
        this.authorizedKey = Validation.required("authorizedKey", authorizedKey);
        this.hostKey = Validation.required("hostKey", hostKey);
        this.sudo = sudo;
        this.extra = parseExtra("extraUserData", extraUserData);
        this.growRoot = growRoot;
        this.warmSetup = false;
    }

    private CloudInitConfig(CloudInitConfig c, boolean warmSetup) {
        this.instanceId = c.instanceId;
        this.hostname = c.hostname;
        this.user = c.user;
        this.authorizedKey = c.authorizedKey;
        this.hostKey = c.hostKey;
        this.sudo = c.sudo;
        this.extra = c.extra;
        this.growRoot = c.growRoot;
        this.warmSetup = warmSetup;
    }

    /**
     * The same documents for the boot that is saved as a warm snapshot of an image without our
     * identity service: they also install it ({@link WarmGuestSetup}).
     */
    public CloudInitConfig installingWarmStartService() {
        return new CloudInitConfig(this, true);
    }

    /**
     * Rejects extra cloud-config that is not acceptable, without keeping it; errors name
     * {@code field}, which is what the caller's user calls it (a VM spec's {@code extraUserData},
     * a template's {@code extraCloudConfig}).
     */
    public static void validateExtra(String field, String text) {
        parseExtra(field, text);
    }

    /**
     * Accepts optional cloud-config from an administrator. It must be a YAML mapping (what
     * cloud-init calls cloud-config); a leading {@code #cloud-config} line is allowed.
     */
    static Map<String, Object> parseExtra(String field, String text) {
        if (text == null || text.isBlank()) {
            return Map.of();
        }
        Object parsed;
        try {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            options.setMaxAliasesForCollections(10);
            parsed = new Yaml(new SafeConstructor(options)).load(text);
        } catch (YAMLException e) {
            throw new InvalidInputException(field, text, "is not valid YAML: " + firstLine(e.getMessage()));
        }
        if (parsed == null) {
            return Map.of();
        }
        if (!(parsed instanceof Map<?, ?> map)) {
            throw new InvalidInputException(field, text, "is not cloud-config: it must be a YAML mapping such as 'packages: [git]'");
        }
        Map<String, Object> result = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String key)) {
                throw new InvalidInputException(field, text, "has a non-text key " + e.getKey());
            }
            if (RESERVED.contains(key)) {
                throw new InvalidInputException(field, text,
                        "sets '" + key + "', which the plugin controls (users, SSH keys and passwords are managed per VM)");
            }
            result.put(key, e.getValue());
        }
        return result;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    public byte[] metaData() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("instance-id", instanceId);
        m.put("local-hostname", hostname);
        return dump(m, null);
    }

    /**
     * The guest's network, stated instead of discovered: QEMU's user-mode network always has the
     * same addresses, so the guest needs no DHCP round (dhclient and its hooks cost seconds on an
     * emulated CPU). The interface is named by the MAC address we give the NIC, and cloud-init
     * renames it to {@code eth0}, so images with predictable interface names work too.
     */
    public byte[] networkConfig() {
        Map<String, Object> subnet = new LinkedHashMap<>();
        subnet.put("type", "static");
        subnet.put("address", GUEST_ADDRESS + "/24");
        subnet.put("gateway", GATEWAY);
        subnet.put("dns_nameservers", List.of(DNS));
        Map<String, Object> nic = new LinkedHashMap<>();
        nic.put("type", "physical");
        nic.put("name", "eth0");
        nic.put("mac_address", GUEST_MAC);
        nic.put("subnets", List.of(subnet));
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("version", 1);
        doc.put("config", List.of(nic));
        return dump(doc, null);
    }

    public byte[] userData() {
        Map<String, Object> u = new LinkedHashMap<>();
        u.put("name", user);
        u.put("shell", "/bin/bash");
        u.put("lock_passwd", true);
        if (sudo) {
            u.put("sudo", "ALL=(ALL) NOPASSWD:ALL");
        }
        u.put("ssh_authorized_keys", List.of(authorizedKey));

        Map<String, Object> keys = new LinkedHashMap<>();
        keys.put("ed25519_private", hostKey.privateKeyOpenSsh());
        keys.put("ed25519_public", hostKey.publicKeyLine());

        Map<String, Object> doc = new LinkedHashMap<>(extra);
        doc.put("users", List.of(u));
        doc.put("ssh_pwauth", false);
        doc.put("disable_root", true);
        // Remove whatever keys the image carries and generate none: the guest serves exactly the
        // key we pinned, and no time is spent generating keys nobody will trust.
        doc.put("ssh_deletekeys", true);
        doc.put("ssh_genkeytypes", List.of());
        doc.put("ssh_keys", keys);
        if (growRoot) {
            // cloud-init's default, stated because an image's cloud.cfg may turn it off; an
            // administrator's own choice in the extra cloud-config is left as it is.
            doc.putIfAbsent("resize_rootfs", true);
        }
        // sudo and Java resolve the host name without DNS. Our image says so in its cloud.cfg; stock
        // images often do not, and sudo then stalls and complains on every call.
        doc.putIfAbsent("manage_etc_hosts", true);
        if (warmSetup) {
            doc.put("write_files", WarmGuestSetup.writeFiles());
            doc.put("runcmd", WarmGuestSetup.runcmd());
        }
        if (extra.isEmpty()) {
            // Nothing but the user, the keys, the host name (and for a grown disk the root
            // filesystem) is asked of the guest, so only the modules doing that run; the rest (apt,
            // locale, grub, passwords...) would spend tens of seconds of an emulated CPU while the
            // agent is trying to log in. With extra cloud-config the image's own module lists stay,
            // so every key the user sets works (and the image's growpart/resizefs, where it has them).
            List<String> init = new ArrayList<>();
            if (growRoot) {
                // First, as in cloud-init's own order: a partitioned image needs growpart before
                // resizefs can fill the partition; for a whole-disk filesystem growpart does nothing.
                init.addAll(List.of("growpart", "resizefs"));
            }
            if (warmSetup) {
                init.add("write-files");
            }
            init.addAll(List.of("set_hostname", "update_hostname", "update_etc_hosts", "users-groups", "ssh"));
            doc.put("cloud_init_modules", init);
            // runcmd (config stage) only writes its commands into a script that scripts-user (final
            // stage) runs.
            doc.put("cloud_config_modules", warmSetup ? List.of("runcmd") : List.of());
            doc.put("cloud_final_modules", warmSetup ? List.of("scripts-user", "final-message") : List.of("final-message"));
        }
        return dump(doc, "#cloud-config\n");
    }

    private static byte[] dump(Map<String, Object> doc, String header) {
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setDefaultScalarStyle(DumperOptions.ScalarStyle.PLAIN);
        options.setSplitLines(false);
        Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()), new Representer(options), options);
        String text = yaml.dump(doc);
        return ((header == null ? "" : header) + text).getBytes(StandardCharsets.UTF_8);
    }
}
