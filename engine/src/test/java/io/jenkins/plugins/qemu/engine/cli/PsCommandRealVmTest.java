package io.jenkins.plugins.qemu.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jenkins.plugins.qemu.engine.testing.TestEngine;
import io.jenkins.plugins.qemu.engine.testing.TestImages;
import io.jenkins.plugins.qemu.engine.usage.ProcReader;
import io.jenkins.plugins.qemu.engine.usage.VmUsage;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code ps} against a real VM of another engine, as a user in a second shell sees it: it reads
 * the record and /proc only, finds the vCPU threads by the names QEMU gives them (the same threads
 * QMP reports), shows the guest's memory as the owner last sampled it, and lists nothing once the
 * VM is destroyed, whose final usage stays readable.
 */
class PsCommandRealVmTest {
    @RegisterExtension
    static final TestEngine ENGINE = new TestEngine();

    @Test
    void psListsARunningVmWithItsTemplatePortOwnerAndUsage() throws Exception {
        Vm vm = ENGINE.engine().boot(TestImages.guestSpec().cpus(2).template("linux+big").build(), line -> { });
        try {
            // The names ps finds the vCPUs by are exactly QMP's threads: two vCPUs, two threads under MTTCG.
            List<Long> qmp = new ArrayList<>();
            for (JsonNode c : vm.monitor().execute("query-cpus-fast", Duration.ofSeconds(5))) {
                qmp.add(c.path("thread-id").asLong());
            }
            qmp.sort(null);
            assertEquals(2, qmp.size());
            assertEquals(qmp.stream().distinct().toList(), new ProcReader().namedVcpuThreads(vm.pid()));

            VmUsage before = TestImages.awaitGuestMemory(vm); // the owner leaves this sample for ps
            String out = ps(0);
            VmUsage after = vm.usage();
            System.out.print(out);
            String owner = ENGINE.engine().config().ownerId();
            Matcher m = Pattern.compile("(?m)^" + vm.id() + " +(\\d+s|\\d+m\\d\\ds) +debian-12 +linux\\+big +running +" + vm.sshPort() + " +"
                    + Pattern.quote(owner) + " +([0-9.]+)s +([0-9.]+)s +(\\d+)M +(\\d+)M +(\\d+)M"
                    + " +(\\d+)M +(\\d+)M +(\\d+)M +(\\d+)M$").matcher(out);
            assertTrue(m.find(), out);
            double vcpu = Double.parseDouble(m.group(2));
            assertTrue(vcpu >= Math.floor(before.vcpuNanos() / 1e8) / 10 && vcpu <= after.vcpuNanos() / 1e9 + 0.05,
                    "ps's vCPU time lies between the engine's samples before and after: " + before + " " + vcpu + " " + after);
            assertTrue(Double.parseDouble(m.group(3)) >= vcpu, "the process's CPU includes the vCPUs'");
            assertTrue(Long.parseLong(m.group(4)) > 100 && Long.parseLong(m.group(5)) >= Long.parseLong(m.group(4)), out);
            assertTrue(Long.parseLong(m.group(6)) > 0, "the overlay has the boot's writes: " + out);
            long guestMib = Long.parseLong(m.group(7));
            assertTrue(guestMib > 50 && Long.parseLong(m.group(8)) >= guestMib,
                    "the guest's memory as its owner last sampled it: " + before + "\n" + out);
            assertEquals(2, out.lines().count(), "a header and the one VM: " + out);
        } finally {
            vm.destroy();
        }
        VmUsage last = vm.usage();
        assertTrue(last != null && last.vcpuNanos() > 0 && last.diskWrittenBytes() > 0, "the final figures stay readable: " + last);
        assertEquals("no VMs\n", ps(0));
    }

    @Test
    void badOptionIsNamed() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Main.run(new String[] {"ps", "--state", "/tmp"}, new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(Main.USAGE, rc);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--state"), err.toString(StandardCharsets.UTF_8));
    }

    private static String ps(int expectedRc) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Main.run(new String[] {"ps", "--state-dir", ENGINE.stateDir().toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(expectedRc, rc, err.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }
}
