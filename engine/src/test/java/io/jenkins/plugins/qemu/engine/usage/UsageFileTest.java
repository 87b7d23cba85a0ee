package io.jenkins.plugins.qemu.engine.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The owner's last sample as ps reads it back: whole, every figure as written, or nothing. */
class UsageFileTest {
    @TempDir
    Path dir;

    @Test
    void aSampleIsReadBackAsItWasWritten() throws Exception {
        VmUsage u = new VmUsage(Instant.parse("2026-12-03T12:00:00Z"), 1, 2, 3, 4, 5, -1, 7, 6, 170L << 20, 470L << 20, 9, -1);
        Path file = dir.resolve("usage.json");
        UsageFile.write(file, dir.resolve(".usage.json.tmp"), u);
        assertEquals(u, UsageFile.read(file));
        assertFalse(Files.exists(dir.resolve(".usage.json.tmp")), "renamed into place");
    }

    @Test
    void noFileOrABrokenOneIsNoSample() throws Exception {
        assertNull(UsageFile.read(dir.resolve("usage.json")));
        assertNull(UsageFile.read(Files.writeString(dir.resolve("usage.json"), "{\"sampledAt\":\"x\"")));
        assertNull(UsageFile.read(Files.writeString(dir.resolve("usage.json"), "{\"sampledAt\":\"2026-12-03T12:00:00Z\",\"rssBytes\":-7}")),
                "a figure VmUsage refuses");
    }
}
