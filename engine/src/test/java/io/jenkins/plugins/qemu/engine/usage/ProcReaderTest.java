package io.jenkins.plugins.qemu.engine.usage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The /proc parsing of {@link ProcReader} against hand-made files, and its reading of this JVM's own. */
class ProcReaderTest {
    @TempDir
    Path root;

    /** A stat line whose command name has spaces and a ')', utime {@code ut} and stime {@code st}, start time {@code start}. */
    private static String stat(long ut, long st, long start) {
        return "42 (qemu-a) b (c) S 1 42 42 0 -1 4194560 100 0 0 0 " + ut + " " + st
                + " 0 0 20 0 3 0 " + start + " 123456 789 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
    }

    private Path task(long pid, long tid, String comm, String stat, String schedstat) throws Exception {
        Path t = Files.createDirectories(root.resolve(pid + "/task/" + tid));
        Files.writeString(t.resolve("comm"), comm + "\n");
        Files.writeString(t.resolve("stat"), stat);
        if (schedstat != null) {
            Files.writeString(t.resolve("schedstat"), schedstat);
        }
        return t;
    }

    @Test
    void processCpuIsUserPlusSystemTicksInTheKernelsUnit() throws Exception {
        Files.createDirectories(root.resolve("42"));
        Files.writeString(root.resolve("42/stat"), stat(250, 50, 777));
        assertEquals(3_000_000_000L, new ProcReader(root, 100).processCpuNanos(42), "300 ticks at 100 Hz");
        assertEquals(300_000_000L, new ProcReader(root, 1000).processCpuNanos(42), "300 ticks at 1000 Hz");
        assertEquals(777, new ProcReader(root, 100).startTime(42));
        assertEquals(VmUsage.UNKNOWN, new ProcReader(root, 100).processCpuNanos(43), "a process that is gone");
        assertEquals(VmUsage.UNKNOWN, new ProcReader(root, 100).startTime(43));
        Files.writeString(root.resolve("42/stat"), stat(250, 50, 777).replace(") S ", ") Z "));
        assertEquals(VmUsage.UNKNOWN, new ProcReader(root, 100).startTime(42), "a zombie is gone: no memory, no threads");
    }

    @Test
    void threadCpuPrefersTheSchedulersNanosecondsAndFallsBackToTicks() throws Exception {
        task(42, 43, "CPU 0/TCG", stat(100, 0, 1), "1234567891 55 9\n");
        task(42, 44, "CPU 1/TCG", stat(100, 20, 1), "0 0 0\n"); // a kernel without scheduler statistics
        task(42, 45, "worker", stat(7, 0, 1), null);
        ProcReader r = new ProcReader(root, 100);
        assertEquals(1_234_567_891L, r.threadCpuNanos(42, 43));
        assertEquals(1_200_000_000L, r.threadCpuNanos(42, 44));
        assertEquals(70_000_000L, r.threadCpuNanos(42, 45));
        assertEquals(VmUsage.UNKNOWN, r.threadCpuNanos(42, 46));
        assertEquals(55, r.threadWaitNanos(42, 43));
        assertEquals(VmUsage.UNKNOWN, r.threadWaitNanos(42, 44), "no statistics: unknown, not zero");
        assertEquals(VmUsage.UNKNOWN, r.threadWaitNanos(42, 45));
    }

    @Test
    void vcpuThreadsAreFoundByTheNamesQemuGivesThem() throws Exception {
        task(42, 42, "qemu-qa-12345", stat(1, 1, 1), null);
        task(42, 50, "CPU 1/KVM", stat(1, 1, 1), null);
        task(42, 47, "CPU 0/KVM", stat(1, 1, 1), null);
        task(42, 48, "IO mon_iothread", stat(1, 1, 1), null);
        task(42, 49, "worker", stat(1, 1, 1), null);
        task(43, 60, "ALL CPUs/TCG", stat(1, 1, 1), null);
        assertEquals(List.of(47L, 50L), new ProcReader(root, 100).namedVcpuThreads(42));
        assertEquals(List.of(60L), new ProcReader(root, 100).namedVcpuThreads(43));
        assertEquals(List.of(), new ProcReader(root, 100).namedVcpuThreads(44));
    }

    @Test
    void residentMemoryNowAndAtItsPeakInBytes() throws Exception {
        Files.createDirectories(root.resolve("42"));
        Files.writeString(root.resolve("42/status"), "Name:\tqemu\nVmPeak:\t 9999 kB\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n");
        assertArrayEquals(new long[] {1024 * 1024, 2048 * 1024}, new ProcReader(root, 100).residentBytes(42));
        assertArrayEquals(new long[] {VmUsage.UNKNOWN, VmUsage.UNKNOWN}, new ProcReader(root, 100).residentBytes(43));
    }

    @Test
    void clockTicksComeFromTheAuxiliaryVector() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.nativeOrder());
        b.putLong(6).putLong(4096).putLong(17).putLong(250).putLong(0).putLong(0);
        Path auxv = root.resolve("auxv");
        Files.write(auxv, java.util.Arrays.copyOf(b.array(), 48));
        assertEquals(250, ProcReader.clockTicks(auxv));
        Files.write(auxv, new byte[] {1, 2, 3});
        assertEquals(ProcReader.DEFAULT_CLOCK_TICKS, ProcReader.clockTicks(auxv), "unreadable: the ABI's value");
        assertEquals(ProcReader.DEFAULT_CLOCK_TICKS, ProcReader.clockTicks(root.resolve("missing")));
        // This host's, as getconf CLK_TCK prints it.
        Process p = new ProcessBuilder("getconf", "CLK_TCK").start();
        long want = Long.parseLong(new String(p.getInputStream().readAllBytes()).strip());
        assertEquals(want, ProcReader.clockTicks(Path.of("/proc/self/auxv")));
    }

    @Test
    void thisJvmsOwnFiguresAreReadable() {
        long pid = ProcessHandle.current().pid();
        ProcReader r = new ProcReader();
        assertTrue(r.processCpuNanos(pid) > 0);
        long[] mem = r.residentBytes(pid);
        assertTrue(mem[0] > 0 && mem[1] >= mem[0], mem[0] + " " + mem[1]);
        assertThrows(IllegalArgumentException.class, () -> new ProcReader(root, 0));
    }
}
