package io.jenkins.plugins.qemu.engine.state;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Read-only access to the facts about processes the reaper bases its decisions on: start times,
 * command lines and the host's boot id. The root is injectable so parsing can be tested against
 * hand-made files; a process that vanishes while being read is simply reported as absent.
 */
public final class ProcFs {
    private final Path root;

    public ProcFs() {
        this(Path.of("/proc"));
    }

    public ProcFs(Path root) {
        this.root = root;
    }

    public Optional<ProcessStat> stat(long pid) {
        if (pid <= 0) {
            return Optional.empty();
        }
        try {
            // ISO-8859-1: a command name may be any bytes, and only the ASCII fields matter here.
            String line = new String(Files.readAllBytes(root.resolve(Long.toString(pid)).resolve("stat")), StandardCharsets.ISO_8859_1);
            return Optional.of(ProcessStat.parse(pid, line));
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** The current process; always present. */
    public ProcessStat self() {
        long pid = ProcessHandle.current().pid();
        return stat(pid).orElseThrow(() -> new IllegalStateException("cannot read " + root + "/" + pid + "/stat"));
    }

    /** The argv of a process, empty if it is gone (or a kernel thread). */
    public List<String> cmdline(long pid) {
        if (pid <= 0) {
            return List.of();
        }
        try {
            String raw = new String(Files.readAllBytes(root.resolve(Long.toString(pid)).resolve("cmdline")), StandardCharsets.UTF_8);
            if (raw.isEmpty()) {
                return List.of();
            }
            if (raw.endsWith("\0")) {
                raw = raw.substring(0, raw.length() - 1);
            }
            return Arrays.asList(raw.split("\0", -1));
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Pids of every other process whose argv satisfies {@code test}. */
    public List<Long> pidsMatching(Predicate<List<String>> test) throws IOException {
        List<Long> pids = new ArrayList<>();
        for (long pid : pids()) {
            if (pid != ProcessHandle.current().pid() && test.test(cmdline(pid))) {
                pids.add(pid);
            }
        }
        return pids;
    }

    /** Every process whose parent is {@code parent}, as their stat lines say now. */
    public List<ProcessStat> children(long parent) throws IOException {
        List<ProcessStat> kids = new ArrayList<>();
        for (long pid : pids()) {
            stat(pid).filter(st -> st.parent() == parent).ifPresent(kids::add);
        }
        return kids;
    }

    /**
     * The threads of the process {@code pid}, each with its own start time; empty if it is gone.
     * The main thread's start time is the process's, which an exec keeps; every other thread is
     * created anew by the program that runs now.
     */
    public List<ProcessStat> threads(long pid) throws IOException {
        List<ProcessStat> threads = new ArrayList<>();
        Path tasks = root.resolve(Long.toString(pid)).resolve("task");
        for (long tid : numbered(tasks)) {
            try {
                String line = new String(Files.readAllBytes(tasks.resolve(Long.toString(tid)).resolve("stat")), StandardCharsets.ISO_8859_1);
                threads.add(ProcessStat.parse(tid, line));
            } catch (IOException | IllegalArgumentException e) {
                // The thread ended while being read.
            }
        }
        return threads;
    }

    private List<Long> pids() throws IOException {
        return numbered(root);
    }

    private static List<Long> numbered(Path dir) throws IOException {
        List<Long> ids = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return ids;
        }
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String name = p.getFileName().toString();
                if (!name.isEmpty() && name.chars().allMatch(Character::isDigit)) {
                    ids.add(Long.parseLong(name));
                }
            }
        }
        return ids;
    }

    /** The machine's memory in MiB ({@code MemTotal} of {@code /proc/meminfo}); 0 when it cannot be read. */
    public long memoryMiB() {
        try {
            for (String line : Files.readAllLines(root.resolve("meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    /**
     * Changes with every host boot. Pids and start times only identify a process within one boot,
     * so a record from an earlier boot can never prove anything about a process running now.
     */
    public String bootId() {
        try {
            return Files.readString(root.resolve("sys/kernel/random/boot_id")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
