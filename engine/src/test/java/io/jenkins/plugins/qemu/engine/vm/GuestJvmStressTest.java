package io.jenkins.plugins.qemu.engine.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jenkins.plugins.qemu.engine.testing.JvmStressWorkload;
import io.jenkins.plugins.qemu.engine.testing.TestEngine;
import io.jenkins.plugins.qemu.engine.testing.TestImages;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 14 point 11: agent JVMs died with SIGSEGV in C1-compiled code in 2-vCPU TCG guests. This
 * boots a guest of the template default size (2 vCPUs, 1 GiB, the engine's own accelerator
 * arguments) and starts {@link JvmStressWorkload} in it many times in a row with the JIT flags an
 * agent JVM gets under TCG, failing on any start that exits non-zero, leaves an hs_err file, or
 * prints anything but what the host JVM computes for the same arguments. One start takes tens of
 * seconds under TCG, so the test is opt-in: {@code -Dqemu.jvmStress=N} runs N starts, and
 * {@code -Dqemu.jvmStress.options="..."} replaces the JVM options (default: C1 only, as
 * {@link AgentJar#jvmOptions(Accel)} gives an agent under TCG).
 */
class GuestJvmStressTest {
    @RegisterExtension
    static final TestEngine ENGINE = new TestEngine();

    private static final int STARTS = Integer.getInteger("qemu.jvmStress", 0);
    private static final String OPTIONS = System.getProperty("qemu.jvmStress.options", "-XX:TieredStopAtLevel=1");
    private static final String DIR = "/tmp/jit";
    private static final int SHA_ROUNDS = 6000;
    private static final int CAS_ROUNDS = 60000;
    private static final int CLASSES = 300;

    @Test
    void manyAgentLikeJvmStartsInATwoVcpuGuestNeitherCrashNorComputeWrongly() throws Exception {
        assumeTrue(STARTS > 0, "opt-in: -Dqemu.jvmStress=N runs N guest JVM starts");
        String expected = JvmStressWorkload.run(SHA_ROUNDS, CAS_ROUNDS, CLASSES);
        Vm vm = ENGINE.engine().boot(TestImages.guestSpec().cpus(2).memoryMiB(1024).build(), line -> { });
        try {
            copyClasses(vm);
            List<String> failures = new ArrayList<>();
            for (int i = 0; i < STARTS; i++) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                ByteArrayOutputStream err = new ByteArrayOutputStream();
                int rc = vm.exec("cd " + DIR + " && java " + OPTIONS + " -XX:ErrorFile=" + DIR + "/hs_err_%p.log -cp " + DIR + " "
                        + JvmStressWorkload.class.getName() + " " + SHA_ROUNDS + " " + CAS_ROUNDS + " " + CLASSES,
                        out, err, Duration.ofMinutes(5));
                String printed = out.toString(StandardCharsets.UTF_8).strip();
                if (rc != 0 || !printed.equals(expected)) {
                    failures.add("start " + i + " exited " + rc + ": " + printed + " " + err.toString(StandardCharsets.UTF_8).strip());
                }
            }
            // The head of a crash log names the frame and the signal's address, which is the evidence wanted.
            String crashes = TestImages.run(vm, "for f in " + DIR + "/hs_err_*; do [ -f \"$f\" ] && head -40 \"$f\"; done; true");
            assertEquals("", crashes, "JVM crash logs (" + vm.accelerator() + ")");
            assertEquals(List.of(), failures, "of " + STARTS + " starts, expected each to print " + expected);
        } finally {
            vm.destroy();
        }
    }

    private static void copyClasses(Vm vm) throws Exception {
        String dir = DIR + "/" + JvmStressWorkload.class.getPackageName().replace('.', '/');
        TestImages.run(vm, "mkdir -p " + dir);
        for (String name : List.of("JvmStressWorkload", "JvmStressWorkload$Box")) {
            try (InputStream in = JvmStressWorkload.class.getResourceAsStream(name + ".class")) {
                String b64 = Base64.getEncoder().encodeToString(in.readAllBytes());
                TestImages.run(vm, "echo " + b64 + " | base64 -d > '" + dir + "/" + name + ".class'");
            }
        }
    }
}
