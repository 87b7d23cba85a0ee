package io.jenkins.plugins.qemu.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.FileTree;
import io.jenkins.plugins.qemu.engine.fault.FaultReport;
import io.jenkins.plugins.qemu.engine.fault.FaultReportExtension;
import io.jenkins.plugins.qemu.engine.testing.TestImages;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Bad command lines: each must exit with the usage code 2, name the option and echo the value
 * on stderr, and leave the state directory it was pointed at empty. Every case carries a short
 * timeout, so one that were wrongly accepted would fail fast instead of booting for minutes.
 */
@ExtendWith(FaultReportExtension.class)
class CliBadInputTest {
    private static Path sandbox;

    private record Case(String field, String shown, List<String> args) {}

    @BeforeAll
    static void start() throws Exception {
        sandbox = TestImages.shortTempDir();
    }

    @AfterAll
    static void stop() throws Exception {
        FileTree.delete(sandbox);
    }

    private static Case run(String field, String shown, String... opts) {
        List<String> a = new ArrayList<>(List.of("run", "--state-dir", sandbox.toString(), "--timeout", "1s", "--image", "debian-12"));
        a.addAll(List.of(opts));
        if (!a.contains("--")) {
            a.addAll(List.of("--", "true"));
        }
        return new Case(field, shown, a);
    }

    private static List<Case> cases() {
        return List.of(
                run("image", "'../x'", "--image", "../x"),
                run("image", "'/etc/passwd'", "--image", "/etc/passwd"),
                run("--cpus", "'0'", "--cpus", "0"),
                run("--cpus", "'-1'", "--cpus", "-1"),
                run("--cpus", "'1.5'", "--cpus", "1.5"),
                run("--memory", "'1.5G'", "--memory", "1.5G"),
                run("--memory", "'99999999G'", "--memory", "99999999G"),
                run("--memory", "'0'", "--memory", "0"),
                run("--disk", "'20 gigs'", "--disk", "20 gigs"),
                run("--disk", "'512M'", "--disk", "512M"),
                run("--disk", "''", "--disk", ""),
                run("--timeout", "'0'", "--timeout", "0"),
                run("--timeout", "'-5'", "--timeout", "-5"),
                run("--timeout", "'5x'", "--timeout", "5x"),
                run("user", "'root'", "--user", "root"),
                run("user", "'a: b'", "--user", "a: b"),
                run("machine", "'pc,accel=kvm'", "--machine", "pc,accel=kvm"),
                run("--accel", "'warp'", "--accel", "warp"),
                run("--egress", "'open'", "--egress", "open"),
                run("--egress", "'allow:22,22'", "--egress", "allow:22,22"),
                run("--egress", "'none+allow:99999'", "--egress", "none+allow:99999"),
                run("--state-dir", "'a\\x00b'", "--state-dir", "a\0b"),
                run("--images-dir", "'x\\x0ay'", "--images-dir", "x\ny"),
                run("option", "'--bogus'", "--bogus", "1"),
                run("command", "''", "--"),
                new Case("reap --max-age", "'0'", List.of("reap", "--state-dir", sandbox.toString(), "--max-age", "0")),
                new Case("--state-dir", "'\\x0a'", List.of("reap", "--state-dir", "\n")),
                new Case("option", "'--frobnicate'", List.of("reap", "--frobnicate", "x")));
    }

    @TestFactory
    Stream<DynamicTest> badCommandLinesAreUsageErrorsNamingOptionAndValue(FaultReport report) {
        return cases().stream().map(k -> DynamicTest.dynamicTest(String.join(" ", k.args()).replace("\0", "\\0").replace("\n", "\\n"), () -> {
            report.badInputTried("cli " + k.field() + "=" + k.shown());
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int rc = Main.run(k.args().toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8));
            String e = err.toString(StandardCharsets.UTF_8);
            assertEquals(Main.USAGE, rc, e);
            String field = k.field().startsWith("reap ") ? k.field().substring(5) : k.field();
            assertTrue(e.startsWith("qemu-agents: " + field + ": " + k.shown()), e);
            report.assertNoFiles("cli " + String.join(" ", k.args()), sandbox);
            assertEquals(List.of(), TestImages.processesMentioning(sandbox.toString()));
        }));
    }
}
