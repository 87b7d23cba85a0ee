package io.jenkins.plugins.qemu.engine.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ValidationTest {

    @ParameterizedTest
    @ValueSource(strings = {"../x", "/etc/passwd", "", "a\u0000b", "with space", "UPPER", ".hidden", "a/b", "..",
            "x..y", "-dash", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
    void rejectsImageNamesThatCouldEscapeOrConfuse(String name) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Validation.imageName("image", name));
        assertEquals("image", e.field());
        assertTrue(e.getMessage().startsWith("image: '"), e.getMessage());
    }

    @Test
    void acceptsOrdinaryImageNames() {
        assertEquals("debian-12", Validation.imageName("image", "debian-12"));
        assertEquals("ubuntu_24.04", Validation.imageName("image", "ubuntu_24.04"));
    }

    @Test
    void nulIsShownVisiblyInTheMessage() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Validation.imageName("image", "a\u0000b"));
        assertTrue(e.getMessage().contains("a\\x00b"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-1", "1.5G", "99999999G", "12Q", "", "G", "1 GB and more", "64", "999999999999T"})
    void rejectsBadMemory(String text) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Validation.memoryMiB("memory", text));
        assertEquals("memory", e.field());
        assertEquals(text, e.value());
    }

    @Test
    void parsesMemorySizes() {
        assertEquals(1024, Validation.memoryMiB("m", "1024"));
        assertEquals(512, Validation.memoryMiB("m", "512M"));
        assertEquals(2048, Validation.memoryMiB("m", "2G"));
        assertEquals(2048, Validation.memoryMiB("m", "2GiB"));
        assertEquals(4096, Validation.memoryMiB("m", "4194304K"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-1", "512M", "1023M", "1.5G", "17T", "twenty", "", " ", "G", "20 GB please", "999999999999T"})
    void rejectsBadDiskSizesNamingFieldAndValue(String text) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Validation.diskSizeMiB("diskSize", text));
        assertEquals("diskSize", e.field());
        assertEquals(text, e.value());
        assertTrue(e.getMessage().startsWith("diskSize: '" + text + "' "), e.getMessage());
    }

    @Test
    void parsesDiskSizesAndShowsThemAsTyped() {
        assertEquals(20 * 1024, Validation.diskSizeMiB("d", "20G"));
        assertEquals(20 * 1024, Validation.diskSizeMiB("d", "20GiB"));
        assertEquals(1536, Validation.diskSizeMiB("d", "1536M"));
        assertEquals(1536, Validation.diskSizeMiB("d", "1536"));
        assertEquals(2L << 20, Validation.diskSizeMiB("d", "2T"));
        assertEquals(6144, Validation.diskSizeMiB("d", 6144));
        InvalidInputException small = assertThrows(InvalidInputException.class, () -> Validation.diskSizeMiB("diskSize", 100));
        assertEquals("diskSize: '100M' is out of range: use 1G to 16T", small.getMessage());
        assertEquals("6G", Validation.sizeText(6144));
        assertEquals("1500M", Validation.sizeText(1500));
        assertEquals("16T", Validation.sizeText(16L << 20));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-1", "65", "1.5", "two", ""})
    void rejectsBadCpus(String text) {
        assertEquals("cpus", assertThrows(InvalidInputException.class, () -> Validation.cpus("cpus", text)).field());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-leading", "trailing-", "UPPER", "with.dot", "under_score", "a b", "x\ny",
            "a234567890123456789012345678901234567890123456789012345678901234"})
    void rejectsHostnamesThatBreakCloudInit(String name) {
        assertThrows(InvalidInputException.class, () -> Validation.hostname("hostname", name));
    }

    @ParameterizedTest
    @ValueSource(strings = {"root", "", "9lives", "with space", "a:b", "x\ny", "Upper", "name: {inject}",
            "abcdefghijklmnopqrstuvwxyz1234567"})
    void rejectsUserNamesThatBreakYamlOrUseradd(String name) {
        assertThrows(InvalidInputException.class, () -> Validation.userName("user", name));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "0s", "-5s", "abc", "5 days", ""})
    void rejectsNonPositiveOrMalformedDurations(String text) {
        assertThrows(InvalidInputException.class, () -> Validation.duration("timeout", text));
    }

    @Test
    void parsesDurations() {
        assertEquals(Duration.ofSeconds(90), Validation.duration("t", "90"));
        assertEquals(Duration.ofMillis(500), Validation.duration("t", "500ms"));
        assertEquals(Duration.ofMinutes(5), Validation.duration("t", "5m"));
        assertThrows(InvalidInputException.class, () -> Validation.positive("t", Duration.ZERO));
    }

    @ParameterizedTest
    @ValueSource(strings = {"console=ttyS0\ninit=/bin/sh", "root=/dev/vda\u0000", "a\tb"})
    void rejectsKernelAppendWithControlCharacters(String append) {
        assertThrows(InvalidInputException.class, () -> Validation.kernelAppend("append", append));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "pc,accel=kvm", "-machine", "q35 extra"})
    void rejectsMachineTypesThatCouldInjectOptions(String machine) {
        assertThrows(InvalidInputException.class, () -> Validation.machine("machine", machine));
    }
}
