package io.jenkins.plugins.qemu.engine.state;

/**
 * The facts of {@code /proc/PID/stat} that identify a process across time: its state letter and
 * its start time in clock ticks since boot (plus its parent, which decides who may collect it
 * once it exited). A pid alone is not an identity, because the kernel reuses pids; a pid together
 * with its start time is, for the lifetime of one host boot.
 */
public record ProcessStat(long pid, char state, long parent, long startTime) {

    /** A zombie has exited and only waits for its parent to collect it: for us it is gone. */
    public boolean zombie() {
        return state == 'Z' || state == 'X' || state == 'x';
    }

    /**
     * Parses a {@code stat} line. The command name (field 2) is in parentheses and may itself
     * contain spaces and parentheses, so the fields are counted from the last ')'.
     */
    public static ProcessStat parse(long pid, String line) {
        int close = line.lastIndexOf(')');
        if (close < 0 || close + 2 > line.length()) {
            throw new IllegalArgumentException("not a /proc stat line: " + line);
        }
        String[] f = fields(line);
        // f[0] is field 3 (state); ppid is field 4, starttime field 22.
        if (f.length < 20 || f[0].isEmpty()) {
            throw new IllegalArgumentException("short /proc stat line: " + line);
        }
        return new ProcessStat(pid, f[0].charAt(0), Long.parseLong(f[1]), Long.parseLong(f[19]));
    }

    /**
     * The fields of a {@code stat} line after the command name, from field 3 (the state) on, so
     * field N is at index N - 3; none if the line has no command name.
     */
    public static String[] fields(String line) {
        int close = line.lastIndexOf(')');
        return close < 0 ? new String[0] : line.substring(close + 1).trim().split(" +");
    }
}
