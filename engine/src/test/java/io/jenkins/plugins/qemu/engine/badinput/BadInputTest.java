package io.jenkins.plugins.qemu.engine.badinput;

import static io.jenkins.plugins.qemu.engine.testing.TestImages.IMAGE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.fault.FaultReport;
import io.jenkins.plugins.qemu.engine.fault.FaultReportExtension;
import io.jenkins.plugins.qemu.engine.image.ImageCatalog;
import io.jenkins.plugins.qemu.engine.seed.CloudInitConfig;
import io.jenkins.plugins.qemu.engine.ssh.SshKeyPair;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.testing.TestEngine;
import io.jenkins.plugins.qemu.engine.testing.TestImages;
import io.jenkins.plugins.qemu.engine.vm.Accel;
import io.jenkins.plugins.qemu.engine.vm.VmBootException;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Every externally supplied value, tried with values that are wrong, through the public entry
 * points a caller uses: the VM spec builder, the engine configuration, the image catalog (hostile
 * manifests) and a real engine's boot. Each must be refused with an error naming the field and
 * showing the value, and none may leave a file in the state directory or start a process.
 */
@ExtendWith(FaultReportExtension.class)
class BadInputTest {
    @RegisterExtension
    static final TestEngine ENGINE = new TestEngine();
    private static Path catalogDir;

    private record Case(String name, String field, Object value, Supplier<Object> attempt) {}

    @BeforeAll
    static void start() throws Exception {
        catalogDir = Files.createTempDirectory(Path.of("/tmp"), "qa-badcat-");
        manifest("newline-append", "{\"disk\": \"disk.qcow2\", \"append\": \"console=ttyS0\\nroot=/dev/sda\"}");
        manifest("escaping-disk", "{\"disk\": \"../../../etc/passwd\"}");
        manifest("odd-format", "{\"disk\": \"disk.qcow2\", \"format\": \"vmdk\"}");
    }

    private static void manifest(String image, String json) throws IOException {
        Path dir = Files.createDirectories(catalogDir.resolve(image));
        Files.writeString(dir.resolve("manifest.json"), json);
        Files.writeString(dir.resolve("disk.qcow2"), "not really");
    }

    @AfterAll
    static void stop() throws Exception {
        FileTree.delete(catalogDir);
    }

    private static VmSpec.Builder spec() {
        return VmSpec.builder().image(IMAGE);
    }

    private static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        // Image names: they become paths, so anything path-like is refused.
        for (String v : new String[] {"../x", "/etc/passwd", "", "a\0b", "deb ian", "x".repeat(200), "Debian-12", "..", "a/b"}) {
            c.add(new Case("image " + v, "image", v.isEmpty() ? "" : v, () -> spec().image(v).build()));
        }
        c.add(new Case("image missing", "image", null, () -> VmSpec.builder().build()));
        for (int v : new int[] {0, -1, 65, Integer.MIN_VALUE}) {
            c.add(new Case("cpus " + v, "cpus", v, () -> spec().cpus(v).build()));
        }
        for (String v : new String[] {"0", "-1", "1.5G", "99999999G", "", "12 parsecs", "127M", "1e3M", "0x400"}) {
            c.add(new Case("memory " + v, "memory", v, () -> spec().memory(v).build()));
        }
        c.add(new Case("memory -1 MiB", "memory", "-1M", () -> spec().memoryMiB(-1).build()));
        for (String v : new String[] {"a: b", "x\ny", "-x", "UPPER", "a.b", "#comment", "x".repeat(64), "", "host name", "'q'"}) {
            c.add(new Case("hostname " + v, "hostname", v, () -> spec().hostname(v).build()));
        }
        for (String v : new String[] {"root", "a b", "x: y", "#x", "'x'", "- x", "Admin", "u".repeat(33), "", "1user", "a\nb"}) {
            c.add(new Case("user " + v, "user", v, () -> spec().user(v).build()));
        }
        for (String v : new String[] {"[1, 2]", "just a string", "a: [", "users: []", "ssh_authorized_keys: [x]", "ssh_pwauth: true",
                "!!python/object/apply:os.system ['id']", "a: 1\na: 2", "1: numeric key",
                "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c]"}) {
            c.add(new Case("extraUserData " + v, "extraUserData", v, () -> spec().extraUserData(v).build()));
        }
        for (Duration v : new Duration[] {Duration.ZERO, Duration.ofSeconds(-5)}) {
            c.add(new Case("bootTimeout " + v, "bootTimeout", v, () -> spec().bootTimeout(v).build()));
        }
        c.add(new Case("bootTimeout missing", "bootTimeout", null, () -> spec().bootTimeout(null).build()));
        c.add(new Case("shutdownGrace negative", "shutdownGrace", Duration.ofSeconds(-1), () -> spec().shutdownGrace(Duration.ofSeconds(-1)).build()));
        for (String v : new String[] {"../x", "A", "v".repeat(64), "a b"}) {
            c.add(new Case("vmId " + v, "vmId", v, () -> spec().vmId(v).build()));
        }
        for (String v : new String[] {"pc,accel=kvm", "pc -hda /etc/passwd", "", "PC"}) {
            c.add(new Case("machine " + v, "machine", v, () -> spec().machine(v).build()));
        }
        c.add(new Case("accelerator missing", "accelerator", null, () -> spec().accel((Accel) null).build()));

        // Engine configuration.
        for (String v : new String[] {"a b", "", "../x", "o".repeat(65), "x\0y"}) {
            c.add(new Case("ownerId " + v, "ownerId", v, () -> EngineConfig.defaults(TestImages.imagesDir(), v)));
        }
        c.add(new Case("ownerId missing", "ownerId", null, () -> EngineConfig.defaults(TestImages.imagesDir(), null)));
        Path longState = Path.of("/tmp/" + "s".repeat(100));
        c.add(new Case("stateDir too long", "stateDir", longState, () -> TestImages.config(ENGINE.stateDir()).withStateDir(longState)));
        c.add(new Case("stateDir missing", "stateDir", null, () -> TestImages.config(ENGINE.stateDir()).withStateDir(null)));
        c.add(new Case("sshRetryPause zero", "sshRetryPause", Duration.ZERO, () -> new EngineConfig(TestImages.imagesDir(), ENGINE.stateDir(),
                Path.of("qemu"), Path.of("qemu-img"), "o", Duration.ZERO)));

        // Image catalog: names and hostile manifests.
        ImageCatalog catalog = new ImageCatalog(catalogDir);
        c.add(new Case("catalog image ../newline-append", "image", "../newline-append", () -> resolve(catalog, "../newline-append")));
        c.add(new Case("catalog image not there", "image", "no-such-image", () -> resolve(catalog, "no-such-image")));
        c.add(new Case("manifest append with newline", "image 'newline-append' manifest append", "console=ttyS0\nroot=/dev/sda",
                () -> resolve(catalog, "newline-append")));
        c.add(new Case("manifest disk outside the image", "image 'escaping-disk' manifest disk", "../../../etc/passwd",
                () -> resolve(catalog, "escaping-disk")));
        c.add(new Case("manifest format vmdk", "image 'odd-format' manifest format", "vmdk", () -> resolve(catalog, "odd-format")));

        // A real engine, asked to boot an image that is not in its catalog.
        c.add(new Case("engine boot of an unknown image", "image", "no-such-image", () -> boot(spec().image("no-such-image").build())));
        return c;
    }

    private static Object resolve(ImageCatalog catalog, String name) {
        try {
            return catalog.resolve(name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The engine wraps the refusal in a VmBootException (phase, VM id); the refusal itself is the cause. */
    private static Object boot(VmSpec spec) {
        try {
            return ENGINE.engine().boot(spec, l -> { });
        } catch (VmBootException e) {
            if (e.getCause() instanceof InvalidInputException i) {
                assertTrue(e.getMessage().contains(spec.vmId()), e.getMessage());
                throw i;
            }
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @TestFactory
    Stream<DynamicTest> everyBadValueIsRefusedNamingFieldAndValueAndLeavesNothing(FaultReport report) {
        return cases().stream().map(k -> DynamicTest.dynamicTest(k.name().replace("\0", "\\0").replace("\n", "\\n"), () -> {
            report.assertRejected(k.field(), k.value(), ENGINE.stateDir(), k.attempt());
            assertEquals(List.of(), TestImages.processesMentioning(ENGINE.stateDir().toString()), "no process was started");
        }));
    }

    @Test
    void thereAreAtLeastThirtyCases() {
        assertTrue(cases().size() >= 30, "only " + cases().size());
    }

    /**
     * Accepted but hostile extra user-data: text that looks like YAML structure inside a value
     * stays a value, because the seed is emitted by a YAML library, not glued together.
     */
    @Test
    void yamlLookingValuesStayValues() throws Exception {
        String extra = "write_files:\n  - path: /etc/motd\n    content: \"hi\\nusers: [{name: evil, sudo: ALL}]\\n#cloud-config\\n\"\n"
                + "runcmd:\n  - [sh, -c, \"echo '\\\"; ssh_pwauth: true'\"]\n";
        VmSpec spec = spec().extraUserData(extra).build();
        CloudInitConfig config = new CloudInitConfig(spec.vmId(), spec.hostname(), spec.user(), "ssh-ed25519 AAAA test",
                SshKeyPair.generate("h"), true, spec.extraUserData());
        String userData = new String(config.userData(), StandardCharsets.UTF_8);
        Map<String, Object> doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(userData);
        List<?> users = (List<?>) doc.get("users");
        assertEquals(1, users.size(), userData);
        assertEquals("jenkins", ((Map<?, ?>) users.get(0)).get("name"));
        assertEquals(false, doc.get("ssh_pwauth"));
        List<?> files = (List<?>) doc.get("write_files");
        assertEquals("hi\nusers: [{name: evil, sudo: ALL}]\n#cloud-config\n", ((Map<?, ?>) files.get(0)).get("content"));
    }
}
