package io.jenkins.plugins.qemu.engine.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.cloud.TemplateSpec;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The egress policy's text form: what parses to what, and what is refused with which words. */
class EgressPolicyTest {

    @Test
    void parsesEveryForm() {
        assertEquals(EgressPolicy.DEFAULT, EgressPolicy.parse("egress", null));
        assertEquals(EgressPolicy.DEFAULT, EgressPolicy.parse("egress", " "));
        assertEquals(EgressPolicy.DEFAULT, EgressPolicy.parse("egress", "default"));
        assertEquals(EgressPolicy.NONE, EgressPolicy.parse("egress", "None"));
        EgressPolicy p = EgressPolicy.parse("egress", "allow:8081,3142");
        assertTrue(p.internet());
        assertEquals(List.of(3142, 8081), p.hostPorts());
        assertEquals("default+allow:3142,8081", p.text());
        EgressPolicy n = EgressPolicy.parse("egress", "none+allow:3142");
        assertFalse(n.internet());
        assertEquals(n, EgressPolicy.parse("egress", n.text()), "the text form reads back");
    }

    @Test
    void refusesWithFieldAndValue() {
        for (String bad : List.of("open", "default+", "default+3142", "allow:", "allow:0", "allow:65536", "allow:80,80",
                "allow:http", "none+allow:1,,2", "allow:-1", "default+deny:22")) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> EgressPolicy.parse("--egress", bad), bad);
            assertEquals("--egress", e.field());
            assertEquals(bad, e.value());
            assertTrue(e.getMessage().startsWith("--egress: '" + bad + "' "), e.getMessage());
        }
        String many = "allow:" + String.join(",", java.util.stream.IntStream.rangeClosed(1, 17).mapToObj(Integer::toString).toList());
        assertTrue(assertThrows(InvalidInputException.class, () -> EgressPolicy.parse("egress", many)).getMessage().contains("at most 16"));
    }

    @Test
    void specAndTemplateCarryIt() {
        VmSpec spec = VmSpec.builder().image("debian-12").egress("none").build();
        assertEquals(EgressPolicy.NONE, spec.egress());
        assertEquals(spec, spec.toBuilder().build());
        assertEquals(EgressPolicy.DEFAULT, VmSpec.builder().image("debian-12").build().egress(), "isolated from the host by default");
        InvalidInputException noSudo = assertThrows(InvalidInputException.class,
                () -> VmSpec.builder().image("debian-12").sudo(false).build());
        assertEquals("egress", noSudo.field(), "the default egress NIC is configured with sudo");
        TemplateSpec t = TemplateSpec.builder().labels("x").image("debian-12").egress("none+allow:3142").build();
        assertEquals("none+allow:3142", t.toVmSpec("qa-1").egress().text());
        assertEquals("egress", assertThrows(InvalidInputException.class,
                () -> TemplateSpec.builder().labels("x").image("debian-12").egress("everything").build()).field());
    }
}
