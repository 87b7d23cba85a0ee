package io.jenkins.plugins.qemu.engine.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, point 7: the engine chmod-ed and swept whatever directory it was given. Now a
 * directory is claimed only when it is new, empty, marked, or holds nothing but what an engine writes.
 */
class StateDirectoryTest {
    @TempDir
    Path tmp;

    @Test
    void aNewOrEmptyDirectoryIsTakenAndMarked() throws Exception {
        Path fresh = tmp.resolve("a/b/state");
        StateDirectory.claim(fresh);
        assertTrue(Files.isRegularFile(fresh.resolve(StateDirectory.MARKER)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(fresh)));
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        StateDirectory.claim(empty);
        assertTrue(Files.isRegularFile(empty.resolve(StateDirectory.MARKER)));
        StateDirectory.claim(empty); // a marked directory is ours again, whatever it holds
    }

    @Test
    void aDirectoryAsEarlierVersionsLeftItIsTaken() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("old"));
        Files.createDirectories(dir.resolve("snapshots/debian-12-abc"));
        Files.createDirectories(dir.resolve("consoles"));
        Files.createDirectories(dir.resolve("qa-0123456789"));
        Files.writeString(dir.resolve("qa-0123456789/" + VmDir.RECORD), "{}");
        StateDirectory.claim(dir);
        assertTrue(Files.isRegularFile(dir.resolve(StateDirectory.MARKER)));
    }

    @Test
    void aDirectoryWithForeignFilesIsRefusedAndLeftAlone() throws Exception {
        Path home = Files.createDirectory(tmp.resolve("jenkins-home"));
        Files.writeString(home.resolve("config.xml"), "<hudson/>");
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxr-xr-x"));
        IOException e = assertThrows(IOException.class, () -> StateDirectory.claim(home));
        assertEquals("it holds 'config.xml', which no engine wrote; a state directory must be dedicated to QEMU Agents "
                + "(give an empty or new directory)", e.getMessage());
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(home)), "not chmod-ed");
        assertTrue(Files.notExists(home.resolve(StateDirectory.MARKER)));

        Path jobs = Files.createDirectory(tmp.resolve("with-jobs"));
        Files.createDirectories(jobs.resolve("jobs/build"));
        Files.writeString(jobs.resolve("jobs/build/config.xml"), "<project/>");
        assertTrue(assertThrows(IOException.class, () -> StateDirectory.claim(jobs)).getMessage().contains("'jobs'"),
                "a folder holding anything but VM files is foreign");
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        assertEquals("it exists and is not a directory", assertThrows(IOException.class, () -> StateDirectory.claim(file)).getMessage());
    }
}
