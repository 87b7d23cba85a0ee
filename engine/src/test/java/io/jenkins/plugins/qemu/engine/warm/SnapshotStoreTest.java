package io.jenkins.plugins.qemu.engine.warm;

import io.jenkins.plugins.qemu.engine.usage.NicCounters;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Publishing, finding and retiring warm snapshots on disk; no QEMU involved. */
class SnapshotStoreTest {
    @TempDir
    Path stateDir;

    private static SnapshotKey key(String qemu) {
        return SnapshotKey.of("debian-12", Map.of("cpus", "1", "memoryMiB", "1024"),
                Map.of("base image", "100 bytes", "QEMU version", qemu));
    }

    private Snapshot publish(SnapshotStore store, SnapshotKey key, int stateBytes) throws IOException {
        Path b = store.newBuildDir();
        Files.write(SnapshotStore.diskIn(b), new byte[10]);
        Files.write(SnapshotStore.stateIn(b), new byte[stateBytes]);
        return store.publish(b, key, Duration.ofSeconds(1), new NicCounters.Totals(5000, 700));
    }

    @Test
    void theSlotDependsOnTheTemplateOnlyAndNamesTheImage() {
        SnapshotKey a = key("7.2");
        assertEquals(a.slot(), key("8.0").slot());
        assertTrue(a.slot().startsWith("debian-12-"), a.slot());
        SnapshotKey other = SnapshotKey.of("debian-12", Map.of("cpus", "2", "memoryMiB", "1024"), a.environment());
        assertNotEquals(a.slot(), other.slot());
    }

    @Test
    void aMissingSnapshotSaysSo() {
        SnapshotStore.Lookup l = new SnapshotStore(stateDir).lookup(key("7.2"));
        assertFalse(l.ready());
        assertTrue(l.reason().startsWith("no warm snapshot yet for image 'debian-12'"), l.reason());
    }

    @Test
    void aPublishedSnapshotIsFoundSealedAndOwnerOnly() throws Exception {
        SnapshotStore store = new SnapshotStore(stateDir);
        Snapshot s = publish(store, key("7.2"), 1234);
        SnapshotStore.Lookup l = store.lookup(key("7.2"));
        assertTrue(l.ready(), l.reason());
        assertEquals(s.dir(), l.snapshot().dir());
        assertEquals(1234, l.snapshot().stateBytes());
        assertEquals(new NicCounters.Totals(5000, 700), l.snapshot().nicsAtSave(), "what its clones' counters go on from");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(store.dir())));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(s.dir())));
        assertEquals("r--------", PosixFilePermissions.toString(Files.getPosixFilePermissions(s.state())));
        assertEquals("r--------", PosixFilePermissions.toString(Files.getPosixFilePermissions(s.disk())));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(s.dir().resolve("meta.json"))));
    }

    @Test
    void aSnapshotSavedWithoutItsNicCountersIsStillRestoredWithoutThem() throws Exception {
        SnapshotStore store = new SnapshotStore(stateDir);
        Path b = store.newBuildDir();
        Files.write(SnapshotStore.diskIn(b), new byte[10]);
        Files.write(SnapshotStore.stateIn(b), new byte[10]);
        store.publish(b, key("7.2"), Duration.ofSeconds(1), null);
        SnapshotStore.Lookup l = store.lookup(key("7.2"));
        assertTrue(l.ready(), l.reason());
        assertEquals(null, l.snapshot().nicsAtSave(), "its clones' network is unknown, not counted from zero");
    }

    @Test
    void aChangedEnvironmentMakesItStaleAndNamesWhatChanged() throws Exception {
        SnapshotStore store = new SnapshotStore(stateDir);
        publish(store, key("7.2"), 10);
        SnapshotStore.Lookup l = store.lookup(key("8.0"));
        assertFalse(l.ready());
        assertTrue(l.reason().contains("is stale: QEMU version (7.2 -> 8.0) changed"), l.reason());
    }

    @Test
    void aTruncatedStateIsIncomplete() throws Exception {
        SnapshotStore store = new SnapshotStore(stateDir);
        Snapshot s = publish(store, key("7.2"), 100);
        Files.setPosixFilePermissions(s.state(), PosixFilePermissions.fromString("rw-------"));
        Files.write(s.state(), new byte[50]);
        SnapshotStore.Lookup l = store.lookup(key("7.2"));
        assertFalse(l.ready());
        assertTrue(l.reason().contains("is incomplete"), l.reason());
    }

    @Test
    void republishingReplacesAndDiscardRemovesOnlyTheSameSnapshot() throws Exception {
        SnapshotStore store = new SnapshotStore(stateDir);
        Snapshot old = publish(store, key("7.2"), 10);
        Thread.sleep(5);
        Snapshot fresh = publish(store, key("7.2"), 20);
        assertEquals(20, store.lookup(key("7.2")).snapshot().stateBytes());
        // A restore of the old one failing must not throw away its replacement.
        store.discard(old, "test");
        assertTrue(store.lookup(key("7.2")).ready());
        store.discard(fresh, "test");
        assertFalse(store.lookup(key("7.2")).ready());
        assertEquals(List.of(), entries(store.dir()));
    }

    @Test
    void leftoversOfDeadBuildsAndReplacedSnapshotsAreRemoved() throws Exception {
        SnapshotStore store = new SnapshotStore(stateDir);
        Path live = store.newBuildDir();
        Path dead = store.newBuildDir();
        Files.setLastModifiedTime(dead, FileTime.from(Instant.now().minus(Duration.ofHours(2))));
        Path old = Files.createDirectory(store.dir().resolve(".old-debian-12-x-1"));
        Snapshot used = publish(store, key("7.2"), 10);
        Snapshot forgotten = publish(store, SnapshotKey.of("debian-12", Map.of("cpus", "4"), Map.of()), 10);
        Files.setLastModifiedTime(forgotten.dir(), FileTime.from(Instant.now().minus(SnapshotStore.UNUSED).minusSeconds(60)));
        Files.setLastModifiedTime(used.dir(), FileTime.from(Instant.now().minus(SnapshotStore.UNUSED).minusSeconds(60)));
        assertTrue(store.lookup(key("7.2")).ready(), "a lookup marks the slot as used");
        store.removeLeftovers();
        assertTrue(Files.exists(live));
        assertFalse(Files.exists(dead));
        assertFalse(Files.exists(old));
        assertTrue(Files.exists(used.dir()));
        assertFalse(Files.exists(forgotten.dir()), "a template's snapshot nobody restored from for weeks is removed");
        store.discard(used, "test");
        store.abandon(live);
        assertEquals(List.of(), entries(store.dir()));
    }

    @Test
    void differencesListEveryChangedEntry() {
        SnapshotKey now = SnapshotKey.of("i", Map.of(), Map.of("a", "1", "b", "2"));
        assertEquals(List.of("a (0 -> 1)", "c (3 -> none)"), now.differences(Map.of("a", "0", "b", "2", "c", "3")));
        assertEquals(List.of(), now.differences(Map.of("a", "1", "b", "2")));
    }

    private static List<Path> entries(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.toList();
        }
    }

    @Test
    void lookupOfAnUnreadableMetaIsAReasonNotAnException() throws Exception {
        SnapshotStore store = new SnapshotStore(stateDir);
        Snapshot s = publish(store, key("7.2"), 10);
        Files.writeString(s.dir().resolve("meta.json"), "{not json");
        SnapshotStore.Lookup l = store.lookup(key("7.2"));
        assertNull(l.snapshot());
        assertTrue(l.reason().contains("unreadable"), l.reason());
    }
}
