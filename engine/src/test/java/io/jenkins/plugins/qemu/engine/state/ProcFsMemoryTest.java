package io.jenkins.plugins.qemu.engine.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The machine's memory as a host reports it for placement: MemTotal in MiB, 0 when unreadable. */
class ProcFsMemoryTest {
    @TempDir
    Path root;

    @Test
    void memTotalInMiB() throws IOException {
        Files.writeString(root.resolve("meminfo"), "MemTotal:       24576000 kB\nMemFree:        1000 kB\n");
        assertEquals(24000, new ProcFs(root).memoryMiB());
    }

    @Test
    void unreadableIsZero() throws IOException {
        assertEquals(0, new ProcFs(root).memoryMiB(), "no file");
        Files.writeString(root.resolve("meminfo"), "MemTotal: lots\n");
        assertEquals(0, new ProcFs(root).memoryMiB(), "no number");
    }

    @Test
    void thisMachineHasSome() {
        assertTrue(new ProcFs().memoryMiB() > 0);
    }
}
