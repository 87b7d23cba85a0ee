package io.jenkins.plugins.qemu.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Asking any command for help prints that command's usage on stdout and exits 0. */
class MainHelpTest {
    @ParameterizedTest
    @CsvSource({
        "run --help, usage: qemu-agents run ",
        "run -h, usage: qemu-agents run ",
        "run --image debian-12 --help, usage: qemu-agents run ",
        "bench --help, usage: qemu-agents bench ",
        "bench -h, usage: qemu-agents bench ",
        "images --help, usage: qemu-agents images ",
        "images pull --help, usage: qemu-agents images ",
        "images rm -h, usage: qemu-agents images ",
        "reap --help, usage: qemu-agents reap ",
        "reap -h, usage: qemu-agents reap ",
        "ps --help, usage: qemu-agents ps ",
        "ps -h, usage: qemu-agents ps ",
        "metrics --help, usage: qemu-agents metrics ",
        "-h, usage: qemu-agents metrics ",
        "-h, usage: qemu-agents ps ",
        "--help, usage: qemu-agents run ",
        "-h, usage: qemu-agents reap ",
    })
    void helpPrintsUsageAndExitsZero(String args, String expected) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Main.run(args.split(" "), print(out), print(err));
        assertEquals(0, rc, err.toString(StandardCharsets.UTF_8));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains(expected), out.toString(StandardCharsets.UTF_8));
        assertEquals("", err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aHelpWordAfterTheDoubleDashBelongsToTheGuestCommand() {
        assertFalse(Main.asksForHelp(List.of("--image", "debian-12", "--", "ls", "--help")));
        assertTrue(Main.asksForHelp(List.of("--image", "debian-12", "-h", "--", "ls")));
    }

    @Test
    void noArgumentsIsAUsageError() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(Main.USAGE, Main.run(new String[0], print(new ByteArrayOutputStream()), print(err)));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("usage: qemu-agents run "));
    }

    private static PrintStream print(ByteArrayOutputStream b) {
        return new PrintStream(b, true, StandardCharsets.UTF_8);
    }
}
