package io.jenkins.plugins.qemu.engine.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.testing.TestImages;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The figures the fault and bad-input suites promise, counted by the very checks that assert
 * them: a fault counts once its injection ran, a leak counts when a check finds one (and then
 * fails the test), a foreign process counts as killed when a check finds it dead. One instance
 * per test run (held in JUnit's root store by {@link FaultReportExtension}); when the run ends
 * the table is printed and written to {@code target/fault-report.txt}.
 */
public final class FaultReport implements ExtensionContext.Store.CloseableResource {
    private final List<String> faults = Collections.synchronizedList(new ArrayList<>());
    private final List<String> badInputs = Collections.synchronizedList(new ArrayList<>());
    private final List<String> leaks = Collections.synchronizedList(new ArrayList<>());
    private final List<String> foreignChecked = Collections.synchronizedList(new ArrayList<>());
    private final List<String> foreignKilled = Collections.synchronizedList(new ArrayList<>());
    private final Path out;

    FaultReport(Path out) {
        this.out = out;
    }

    /** Records that {@code name} was injected; call right after the injection happened. */
    public void injected(String name) {
        faults.add(name);
    }

    /**
     * Asserts that nothing of {@code vmId} is left: no process naming it, no folder, record or
     * socket below the state directory, no listener on its forwarded port (if it had one).
     */
    public void assertNothingLeft(String fault, String vmId, Path stateDir, int port) throws IOException {
        List<String> found = new ArrayList<>();
        for (long pid : TestImages.processesMentioning(vmId)) {
            found.add("process " + pid + " names " + vmId);
        }
        Path dir = stateDir.resolve(vmId);
        if (Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            List<Path> files = TestImages.filesBelow(dir);
            if (files.isEmpty()) {
                found.add("empty folder " + dir);
            }
            for (Path f : files) {
                // Record, socket, overlay, seed, console: each one is a separate leak.
                found.add("file " + f);
            }
        }
        if (port > 0 && TestImages.portOpen(port)) {
            found.add("port " + port + " still listening");
        }
        for (String f : found) {
            leaks.add(fault + ": " + f);
        }
        assertEquals(List.of(), found, fault + ": resources of " + vmId + " left behind");
    }

    /** Asserts a process planted as foreign is still alive, and counts it if it is not. */
    public void assertForeignSurvived(String fault, Process p) {
        foreignChecked.add(fault + ": pid " + p.pid());
        boolean alive = p.isAlive();
        if (!alive) {
            foreignKilled.add(fault + ": pid " + p.pid());
        }
        assertTrue(alive, fault + ": foreign pid " + p.pid() + " was killed");
    }

    /**
     * Tries one bad value: {@code attempt} must throw {@link InvalidInputException} naming
     * {@code field}, and the message must show the value; then nothing may be left in
     * {@code sandbox} (the state directory the attempt could have written to).
     */
    public InvalidInputException assertRejected(String field, Object value, Path sandbox, Supplier<Object> attempt) throws IOException {
        badInputs.add(field + "=" + InvalidInputExceptionText.describe(value));
        InvalidInputException e;
        try {
            Object accepted = attempt.get();
            throw new AssertionError(field + ": " + InvalidInputExceptionText.describe(value) + " was accepted as " + accepted);
        } catch (InvalidInputException ex) {
            e = ex;
        }
        assertEquals(field, e.field(), e.getMessage());
        assertTrue(e.getMessage().startsWith(field + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(InvalidInputExceptionText.describe(value)), "value not named in: " + e.getMessage());
        assertNoFiles("bad input " + field, sandbox);
        return e;
    }

    /** Counts one bad input tried through another entry point (the CLI), already asserted by the caller. */
    public void badInputTried(String description) {
        badInputs.add(description);
    }

    public void assertNoFiles(String what, Path sandbox) throws IOException {
        List<Path> files = sandbox == null ? List.of() : TestImages.filesBelow(sandbox);
        for (Path f : files) {
            leaks.add(what + ": file " + f);
        }
        assertEquals(List.of(), files, what + " left files");
    }

    String table() {
        StringBuilder b = new StringBuilder();
        b.append("QEMU Agents fault and bad-input report\n");
        b.append("---------------------------------------------\n");
        b.append(String.format(Locale.ROOT, "%-34s %6d%n", "faults injected", faults.size()));
        b.append(String.format(Locale.ROOT, "%-34s %6d%n", "bad inputs tried (all rejected)", badInputs.size()));
        b.append(String.format(Locale.ROOT, "%-34s %6d%n", "leaked resources found afterwards", leaks.size()));
        b.append(String.format(Locale.ROOT, "%-34s %6d%n", "foreign processes checked", foreignChecked.size()));
        b.append(String.format(Locale.ROOT, "%-34s %6d%n", "foreign processes killed", foreignKilled.size()));
        b.append("---------------------------------------------\n");
        synchronized (faults) {
            for (String f : faults) {
                b.append("fault: ").append(f).append('\n');
            }
        }
        synchronized (leaks) {
            for (String l : leaks) {
                b.append("LEAK: ").append(l).append('\n');
            }
        }
        synchronized (foreignKilled) {
            for (String k : foreignKilled) {
                b.append("FOREIGN KILLED: ").append(k).append('\n');
            }
        }
        return b.toString();
    }

    @Override
    public void close() {
        String t = table();
        System.out.println("\n" + t);
        try {
            Files.createDirectories(out.getParent());
            Files.writeString(out, t, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Mirrors how {@link InvalidInputException} shows a value, so tests check the user sees it. */
    static final class InvalidInputExceptionText {
        private InvalidInputExceptionText() {}

        static String describe(Object value) {
            return new InvalidInputException("f", value, "").getMessage().substring(3).stripTrailing();
        }
    }
}
