package io.jenkins.plugins.qemu.engine.usage;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import io.jenkins.plugins.qemu.engine.state.ProcFs;
import io.jenkins.plugins.qemu.engine.state.ProcessStat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Reads the usage figures of one process and its threads from {@code /proc}: CPU time, resident
 * memory now and at its peak, and which threads are QEMU's vCPUs by name. A figure that cannot be
 * read (the process is gone, a file is missing) is {@link VmUsage#UNKNOWN}, never an exception.
 * The root is injectable so the parsing is tested against hand-made files.
 */
public final class ProcReader {
    /** Used when {@code /proc/self/auxv} cannot be read: USER_HZ of every common architecture. */
    static final long DEFAULT_CLOCK_TICKS = 100;
    private static final int AT_CLKTCK = 17;
    /** vCPU thread names with {@code -name ...,debug-threads=on}: "CPU 0/TCG", "ALL CPUs/TCG". */
    private static final Pattern VCPU_THREAD = Pattern.compile("(CPU \\d+|ALL CPUs)/[A-Z]+");

    private final Path root;
    private final ProcFs procFs;
    private final long ticksPerSecond;

    /** The host's {@code /proc}, with the clock tick the kernel gave this process. */
    public ProcReader() {
        this(Path.of("/proc"), clockTicks(Path.of("/proc/self/auxv")));
    }

    public ProcReader(Path root, long ticksPerSecond) {
        if (ticksPerSecond <= 0) {
            throw new IllegalArgumentException(
                    "ticksPerSecond must be positive, not " + ticksPerSecond);
        }
        this.root = root;
        this.procFs = new ProcFs(root);
        this.ticksPerSecond = ticksPerSecond;
    }

    /**
     * The unit of the CPU times in {@code /proc/PID/stat}: the {@code AT_CLKTCK} entry of the
     * auxiliary vector the kernel hands every process, which is what {@code getconf CLK_TCK}
     * prints, read without starting a process. Entries are pairs of native words.
     */
    static long clockTicks(Path auxv) {
        try {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(auxv)).order(ByteOrder.nativeOrder());
            while (b.remaining() >= 16) {
                long type = b.getLong();
                long value = b.getLong();
                if (type == AT_CLKTCK && value > 0) {
                    return value;
                }
                if (type == 0) {
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // Unreadable (another kernel, a sandbox): fall back to the Linux ABI's value.
        }
        return DEFAULT_CLOCK_TICKS;
    }

    /**
     * The process's start time in clock ticks since boot (its identity with the pid), or UNKNOWN
     * if it is gone; a zombie counts as gone, its memory and threads are.
     */
    public long startTime(long pid) {
        return procFs.stat(pid).filter(s -> !s.zombie()).map(ProcessStat::startTime).orElse(VmUsage.UNKNOWN);
    }

    /** User plus system CPU time of the whole process, every thread that ever ran in it. */
    public long processCpuNanos(long pid) {
        return cpuNanos(proc(pid).resolve("stat"));
    }

    /**
     * CPU time of one thread: the scheduler's nanosecond count ({@code schedstat}) where the kernel
     * keeps it, else user plus system time in clock ticks.
     */
    public long threadCpuNanos(long pid, long tid) {
        Path task = proc(pid).resolve("task").resolve(Long.toString(tid));
        try {
            String s = Files.readString(task.resolve("schedstat"), ISO_8859_1).trim();
            long ns = Long.parseLong(s.split(" +")[0]);
            // "0 0 0" is what a kernel without scheduler statistics prints.
            if (ns > 0) {
                return ns;
            }
        } catch (IOException | RuntimeException e) {
            // Fall back to stat below.
        }
        return cpuNanos(task.resolve("stat"));
    }

    /**
     * How long one thread was ready to run but waited for a host CPU (the second figure of
     * {@code schedstat}); UNKNOWN where the kernel keeps no scheduler statistics.
     */
    public long threadWaitNanos(long pid, long tid) {
        Path task = proc(pid).resolve("task").resolve(Long.toString(tid));
        try {
            String[] f = Files.readString(task.resolve("schedstat"), ISO_8859_1).trim().split(" +");
            // A thread that ran has a run time; "0 0 0" is a kernel without the statistics.
            return Long.parseLong(f[0]) > 0 ? Long.parseLong(f[1]) : VmUsage.UNKNOWN;
        } catch (IOException | RuntimeException e) {
            return VmUsage.UNKNOWN;
        }
    }

    /** The threads QEMU named as vCPU threads; empty without {@code debug-threads=on}. */
    public List<Long> namedVcpuThreads(long pid) {
        List<Long> tids = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(proc(pid).resolve("task"))) {
            for (Path t : s) {
                try {
                    String comm = Files.readString(t.resolve("comm"), ISO_8859_1).strip();
                    if (VCPU_THREAD.matcher(comm).matches()) {
                        tids.add(Long.parseLong(t.getFileName().toString()));
                    }
                } catch (IOException | NumberFormatException gone) {
                    // The thread ended while we looked.
                }
            }
        } catch (IOException gone) {
            return List.of();
        }
        tids.sort(null);
        return tids;
    }

    /** Resident bytes now and at the peak ({@code VmRSS}, {@code VmHWM}); UNKNOWN if unreadable. */
    public long[] residentBytes(long pid) {
        long rss = VmUsage.UNKNOWN;
        long hwm = VmUsage.UNKNOWN;
        try {
            for (String line : Files.readAllLines(proc(pid).resolve("status"), ISO_8859_1)) {
                if (line.startsWith("VmRSS:")) {
                    rss = kib(line);
                } else if (line.startsWith("VmHWM:")) {
                    hwm = kib(line);
                }
            }
        } catch (IOException | RuntimeException e) {
            return new long[] {VmUsage.UNKNOWN, VmUsage.UNKNOWN};
        }
        return new long[] {rss, hwm};
    }

    private static long kib(String line) {
        String[] w = line.substring(line.indexOf(':') + 1).trim().split(" +");
        return Long.parseLong(w[0]) * 1024;
    }

    private long cpuNanos(Path stat) {
        String[] f = statFields(stat);
        if (f == null) {
            return VmUsage.UNKNOWN;
        }
        // f[0] is field 3 (state), so utime (field 14) and stime (field 15) are f[11] and f[12].
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
        long perSecond = ticksPerSecond;
        return ticks / perSecond * 1_000_000_000L + ticks % perSecond * 1_000_000_000L / perSecond;
    }

    private Path proc(long pid) {
        return root.resolve(Long.toString(pid));
    }

    /** The fields after the command name (which may hold spaces and ')'); null if unreadable. */
    private static String[] statFields(Path stat) {
        try {
            String[] f = ProcessStat.fields(Files.readString(stat, ISO_8859_1));
            return f.length < 20 ? null : f;
        } catch (IOException e) {
            return null;
        }
    }
}
