package io.jenkins.plugins.qemu.engine.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class VmSpecTest {

    @Test
    void defaultsAreSaneAndIdsUnique() {
        VmSpec a = VmSpec.builder().image("debian-12").build();
        VmSpec b = VmSpec.builder().image("debian-12").build();
        assertNotEquals(a.vmId(), b.vmId());
        assertTrue(a.vmId().matches("qa-[0-9a-f]{10}"), a.vmId());
        assertEquals(a.vmId(), a.hostname());
        assertEquals("jenkins", a.user());
        assertEquals(1, a.cpus());
        assertEquals(1024, a.memoryMiB());
        assertEquals(Accel.AUTO, a.accel());
        assertEquals(0, a.diskSizeMiB(), "no disk size: the image's own");
    }

    @Test
    void diskSizeIsKeptAndJudgedAtBuild() {
        VmSpec spec = VmSpec.builder().image("x").diskSizeMiB(6144).build();
        assertEquals(6144, spec.diskSizeMiB());
        assertTrue(spec.toString().contains("disk=6G"), spec.toString());
        assertEquals(spec, spec.toBuilder().build());
        assertNotEquals(spec, spec.toBuilder().diskSizeMiB(8192).build());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> VmSpec.builder().image("x").diskSizeMiB(512).build());
        assertEquals("diskSize", e.field());
        assertEquals("diskSize: '512M' is out of range: use 1G to 16T", e.getMessage());
    }

    @Test
    void everyFieldIsValidatedAtBuild() {
        assertField("image", VmSpec.builder());
        assertField("image", VmSpec.builder().image("../etc"));
        assertField("cpus", VmSpec.builder().image("x").cpus(0));
        assertField("memory", VmSpec.builder().image("x").memoryMiB(64));
        assertField("machine", VmSpec.builder().image("x").machine("pc,accel=kvm"));
        assertField("hostname", VmSpec.builder().image("x").hostname("bad_host"));
        assertField("user", VmSpec.builder().image("x").user("root"));
        assertField("bootTimeout", VmSpec.builder().image("x").bootTimeout(Duration.ZERO));
        assertField("shutdownGrace", VmSpec.builder().image("x").shutdownGrace(Duration.ofSeconds(-1)));
        assertField("extraUserData", VmSpec.builder().image("x").extraUserData("- just\n- a list"));
        assertField("vmId", VmSpec.builder().image("x").vmId("Bad Id"));
        assertField("accelerator", VmSpec.builder().image("x").accel(null));
        assertField("diskSize", VmSpec.builder().image("x").diskSizeMiB(-1));
        assertField("diskSize", VmSpec.builder().image("x").diskSizeMiB(17L << 20));
    }

    private static void assertField(String field, VmSpec.Builder b) {
        InvalidInputException e = assertThrows(InvalidInputException.class, b::build);
        assertEquals(field, e.field(), e.getMessage());
    }

    @Test
    void specIsSerializableSoItCanTravelToAnotherMachine() throws Exception {
        VmSpec spec = VmSpec.builder().image("debian-12").cpus(2).memory("2G").diskSizeMiB(20480).extraUserData("packages: [git]").build();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(spec);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            assertEquals(spec, in.readObject());
        }
        assertEquals(spec, spec.toBuilder().build());
    }
}
