package io.jenkins.plugins.qemu.engine.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InheritedZombiesTest {
    @TempDir
    Path root;

    /** A stat line with the given state, parent and start time (field 22). */
    private void process(String dir, long pid, char state, long parent, long start) throws Exception {
        StringBuilder line = new StringBuilder(pid + " (qemu-system-x86) " + state + " " + parent);
        for (int field = 5; field <= 52; field++) {
            line.append(' ').append(field == 22 ? Long.toString(start) : "0");
        }
        Path d = Files.createDirectories(root.resolve(dir));
        Files.writeString(d.resolve("stat"), line.toString());
    }

    @Test
    void onlyExitedChildrenStartedBeforeTheRunningProgramAreCollected() throws Exception {
        // The JVM, pid 100: forked at tick 10, re-executed later; its threads other than main began at 500.
        process("100", 100, 'S', 1, 10);
        process("100/task/100", 100, 'S', 1, 10);
        process("100/task/101", 101, 'S', 1, 520);
        process("100/task/107", 107, 'S', 1, 500);
        process("200", 200, 'Z', 100, 300);   // the old JVM's QEMU, destroyed after the restart
        process("201", 201, 'Z', 100, 600);   // started by the running JVM: its Process collects it
        process("202", 202, 'S', 100, 300);   // the old JVM's QEMU, still running
        process("203", 203, 'Z', 1, 300);     // somebody else's
        process("204", 204, 'Z', 100, 499);   // forked just before the exec
        process("205", 205, 'Z', 100, 500);   // the same tick as the program's first thread: not provably older

        InheritedZombies z = new InheritedZombies(new ProcFs(root), 100);

        assertEquals(500, z.programStart());
        assertEquals(List.of(200L, 204L), z.find().stream().sorted().toList());
    }

    @Test
    void aProgramWithoutOtherThreadsHasInheritedNothingItCanTellApart() throws Exception {
        process("100", 100, 'S', 1, 10);
        process("100/task/100", 100, 'S', 1, 10);
        process("200", 200, 'Z', 100, 5);

        assertTrue(new InheritedZombies(new ProcFs(root), 100).find().isEmpty());
    }

    @Test
    void inThisJvmAChildItStartedItselfIsNeverTakenFromItsProcess() throws Exception {
        InheritedZombies z = InheritedZombies.ofThisProcess();
        ProcFs proc = new ProcFs();
        assertTrue(z.programStart() >= proc.self().startTime(), "threads cannot begin before their process");

        Process child = new ProcessBuilder("sleep", "30").start();
        try {
            child.destroyForcibly();
            // Until Java's own reaper collects it, the killed child is a zombie of this JVM; it must not be listed.
            for (int i = 0; i < 200 && child.isAlive(); i++) {
                assertFalse(z.find().contains(child.pid()));
            }
            assertFalse(z.find().contains(child.pid()));
        } finally {
            child.waitFor();
        }
        assertEquals(137, child.exitValue(), "Java still learns the exit status of its own child");
    }
}
