package io.jenkins.plugins.qemu.engine.cloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Point 3 of the plugin-robustness issue: "canProvision says yes even for templates that cannot
 * boot". Each reason a template cannot boot is found without running QEMU and named.
 */
class TemplateReadinessTest {
    @TempDir
    Path dir;
    private EngineConfig config;
    private final Path trueBinary = Path.of("/bin/true");

    @BeforeEach
    void catalogWithOneImage() throws Exception {
        Path images = dir.resolve("images");
        Files.createDirectories(images.resolve("debian-12"));
        Files.writeString(images.resolve("debian-12/manifest.json"), "{\"format\": \"qcow2\", \"disk\": \"disk.qcow2\"}");
        Files.writeString(images.resolve("debian-12/disk.qcow2"), "not read by this check");
        config = new EngineConfig(images, dir.resolve("state"), trueBinary, trueBinary, "owner", Duration.ofMillis(200), trueBinary);
    }

    private static TemplateSpec template(String image, String egress) {
        return TemplateSpec.builder().labels("x").image(image).egress(egress).build();
    }

    @Test
    void aTemplateThatCanBootHasNoProblem() {
        assertNull(TemplateReadiness.problem(config, template("debian-12", "default")));
    }

    @Test
    void eachReasonIsNamed() {
        assertEquals("QEMU (/nonexistent/qemu) is not installed or not executable on this host",
                TemplateReadiness.problem(config.withQemuBinary(Path.of("/nonexistent/qemu")), template("debian-12", "")));
        String missingImage = TemplateReadiness.problem(config, template("ubuntu-24", ""));
        assertTrue(missingImage.contains("ubuntu-24") && missingImage.contains("not in the image catalog"), missingImage);
        String noPasst = TemplateReadiness.problem(config.withPasstBinary(Path.of("/nonexistent/passt")), template("debian-12", "default"));
        assertTrue(noPasst.startsWith("passt (/nonexistent/passt), which egress"), noPasst);
        assertNull(TemplateReadiness.problem(config.withPasstBinary(Path.of("/nonexistent/passt")), template("debian-12", "none")),
                "a VM without internet needs no passt");
    }

    /** The real-Jenkins finding: a template saved with {@code user: root} must say so, not fail every 10 s. */
    @Test
    void invalidSettingsAreAProblemToo() {
        String p = TemplateReadiness.problem(config, () -> TemplateSpec.builder().labels("x").image("debian-12").user("root").build());
        assertTrue(p.startsWith("the template's settings are invalid: user"), p);
        assertTrue(p.contains("root"), p);
    }

    @Test
    void keysSeparateCloudsLabelsAndImages() {
        TemplateSpec t = template("debian-12", "");
        assertEquals("c1/x/debian-12", TemplateReadiness.key("c1", t));
        assertTrue(!TemplateReadiness.key("c1", t).equals(TemplateReadiness.key("c2", t)));
    }
}
