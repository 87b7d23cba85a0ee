package io.jenkins.plugins.qemu.engine.cloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class TemplateSpecTest {

    private static TemplateSpec.Builder valid() {
        return TemplateSpec.builder().labels("debian-12  linux").image("debian-12").cpus(2).memory("2G");
    }

    @Test
    void defaultsMakeAOneShotAgent() {
        TemplateSpec t = valid().build();
        assertEquals("debian-12 linux", t.labels());
        assertEquals(List.of("debian-12", "linux"), t.labelAtoms());
        assertEquals(2048, t.memoryMiB());
        assertEquals("jenkins", t.user());
        assertEquals("/home/jenkins/agent", t.remoteFs());
        assertEquals(1, t.executors());
        assertTrue(t.retention().oneShot());
        assertEquals(Duration.ofMinutes(5), t.bootTimeout());
        assertEquals(0, t.diskSizeMiB());
        assertNull(t.extraCloudConfig());
        assertEquals("", t.jvmOptions());
    }

    @Test
    void producesTheVmSpecTheEngineBoots() {
        TemplateSpec t = valid().user("builder").bootTimeout("90s").extraCloudConfig("packages: [git]").build();
        VmSpec spec = t.toVmSpec("qa-0123456789");
        assertEquals("qa-0123456789", spec.vmId());
        assertEquals("qa-0123456789", spec.hostname());
        assertEquals("debian-12", spec.image());
        assertEquals(2, spec.cpus());
        assertEquals(2048, spec.memoryMiB());
        assertEquals("builder", spec.user());
        assertEquals(Duration.ofSeconds(90), spec.bootTimeout());
        assertEquals("packages: [git]", spec.extraUserData());
        assertEquals(0, spec.diskSizeMiB(), "no disk size: the image's own");
        assertEquals(20 * 1024, valid().diskSize("20G").build().toVmSpec("qa-0123456789").diskSizeMiB());
    }

    @Test
    void warmStartIsOnByDefaultAndReachesTheVmSpec() {
        assertTrue(valid().build().toVmSpec("qa-1").warmStart());
        assertFalse(valid().warmStart(false).build().toVmSpec("qa-1").warmStart());
    }

    @Test
    void idleMinutesSelectTheRetention() {
        TemplateSpec t = valid().idleMinutes(15).build();
        assertFalse(t.retention().oneShot());
        assertEquals(15, t.retention().idleMinutes());
    }

    @Test
    void keepFailedMinutesReachTheRetentionOfOneShotTemplatesOnly() {
        assertFalse(valid().build().retention().keepsFailed(), "off by default");
        assertEquals(Duration.ofMinutes(45), valid().keepFailedMinutes(45).build().retention().keepFailed());
        io.jenkins.plugins.qemu.engine.config.InvalidInputException reused = org.junit.jupiter.api.Assertions.assertThrows(
                io.jenkins.plugins.qemu.engine.config.InvalidInputException.class, () -> valid().idleMinutes(10).keepFailedMinutes(30).build());
        assertEquals("keepFailedMinutes", reused.field());
        assertTrue(reused.getMessage().contains("one-shot"), reused.getMessage());
        assertEquals("keepFailedMinutes", org.junit.jupiter.api.Assertions.assertThrows(
                io.jenkins.plugins.qemu.engine.config.InvalidInputException.class, () -> valid().keepFailedMinutes(2000).build()).field());
    }

    @Test
    void emptyLabelsServeUnlabelledJobs() {
        assertEquals(List.of(), valid().labels("   ").build().labelAtoms());
        assertEquals(List.of(), valid().labels(null).build().labelAtoms());
    }

    @Test
    void eachBadFieldIsNamed() {
        assertField("image", b -> b.image("../etc"));
        assertField("image", b -> b.image(null));
        assertField("cpus", b -> b.cpus(0));
        assertField("memory", b -> b.memory("lots"));
        assertField("memory", b -> b.memory("64M"));
        assertField("diskSize", b -> b.diskSize("100M"));
        assertField("diskSize", b -> b.diskSize("twenty"));
        assertField("user", b -> b.user("root"));
        assertField("user", b -> b.user("Bad User"));
        assertField("remoteFs", b -> b.remoteFs("relative/dir"));
        assertField("remoteFs", b -> b.remoteFs("/home/jenkins/my agent"));
        assertField("remoteFs", b -> b.remoteFs("/home/../etc"));
        assertField("remoteFs", b -> b.remoteFs(""));
        assertField("executors", b -> b.executors(0));
        assertField("idleMinutes", b -> b.idleMinutes(-1));
        assertField("labels", b -> b.labels("a&&b"));
        assertField("labels", b -> b.labels("linux (x86)"));
        assertField("jvmOptions", b -> b.jvmOptions("-Xmx1g\n-Dx=1"));
        assertField("bootTimeout", b -> b.bootTimeout("soon"));
        assertField("bootTimeout", b -> b.bootTimeout("0s"));
        assertField("warmPool", b -> b.warmPool(17));
        assertField("warmPool", b -> b.warmPool(3).instanceCap(2));
    }

    @Test
    void theDigestChangesWithWhatShapesAVmButNotWithCapsOrPoolSize() {
        String base = valid().build().digest();
        assertEquals(base, valid().build().digest(), "stable");
        assertEquals(base, valid().warmPool(2).instanceCap(4).build().digest());
        assertFalse(base.equals(valid().memory("3G").build().digest()));
        assertFalse(base.equals(valid().jvmOptions("-Xmx512m").build().digest()));
        assertFalse(base.equals(valid().warmStart(false).build().digest()));
        assertEquals(2, valid().warmPool(2).build().warmPool());
    }

    @Test
    void badCloudConfigIsReportedUnderTheFormsFieldName() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> valid().extraCloudConfig("- just\n- a list").build());
        assertEquals("extraCloudConfig", e.field());
        assertTrue(e.getMessage().startsWith("extraCloudConfig: '"), e.getMessage());
        assertFalse(e.getMessage().contains("extraUserData"), e.getMessage());
        InvalidInputException yaml = assertThrows(InvalidInputException.class, () -> valid().extraCloudConfig("a: [").build());
        assertEquals("extraCloudConfig", yaml.field());
    }

    @Test
    void remoteFsIsNormalised() {
        assertEquals("/srv/agent", valid().remoteFs(" /srv/agent/ ").build().remoteFs());
    }

    @Test
    void diskSizeIsParsed() {
        assertEquals(20 * 1024, valid().diskSize("20G").build().diskSizeMiB());
        assertEquals(20 * 1024, valid().diskSize("20GiB").build().diskSizeMiB());
    }

    @Test
    void travelsAsPlainValues() throws Exception {
        TemplateSpec t = valid().idleMinutes(5).build();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(t);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            TemplateSpec back = (TemplateSpec) in.readObject();
            assertEquals(t.toString(), back.toString());
            assertEquals(t.retention(), back.retention());
        }
    }

    private static void assertField(String field, UnaryOperator<TemplateSpec.Builder> change) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> change.apply(valid()).build());
        assertEquals(field, e.field(), e.getMessage());
        assertTrue(e.getMessage().startsWith(field + ": "), e.getMessage());
    }
}
