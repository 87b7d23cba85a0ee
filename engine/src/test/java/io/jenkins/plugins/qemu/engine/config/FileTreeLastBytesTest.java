package io.jenkins.plugins.qemu.engine.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The end of a log file: exactly its last bytes, and whether anything was left out. */
class FileTreeLastBytesTest {
    @TempDir
    Path tmp;

    @Test
    void aShortFileIsWholeALongOneIsCutToItsEnd() throws IOException {
        Path f = tmp.resolve("console.log");
        Files.writeString(f, "one\ntwo\n");
        assertEquals(new FileTree.End("one\ntwo\n", false), FileTree.lastBytes(f, 8));
        assertEquals(new FileTree.End("wo\n", true), FileTree.lastBytes(f, 3));
        Files.writeString(f, "");
        assertEquals(new FileTree.End("", false), FileTree.lastBytes(f, 3));
    }

    @Test
    void aMissingFileIsAnError() {
        assertThrows(IOException.class, () -> FileTree.lastBytes(tmp.resolve("none"), 3));
    }
}
