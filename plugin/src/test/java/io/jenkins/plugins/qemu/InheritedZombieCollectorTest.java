package io.jenkins.plugins.qemu;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.StringArray;
import com.sun.jna.ptr.IntByReference;
import hudson.util.StreamTaskListener;
import io.jenkins.plugins.qemu.engine.state.InheritedZombies;
import io.jenkins.plugins.qemu.engine.state.ProcFs;
import io.jenkins.plugins.qemu.engine.state.ProcessStat;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.Test;

/**
 * The collector against the real kernel: a child this JVM spawned behind Java's back (as the JVM
 * before a safe restart did, from the new JVM's point of view) exits, stays a zombie, and is gone
 * once collected. Which children count as inherited is decided, and tested, in the engine.
 */
public class InheritedZombieCollectorTest {
    /** posix_spawnp, so no Java {@link Process} (and no reaper thread of Java's) ever knows the child. */
    interface Spawn extends Library {
        int posix_spawnp(IntByReference pid, String file, Pointer fileActions, Pointer attributes, StringArray argv, StringArray envp);
    }

    @Test
    public void aChildNobodyWaitsForIsCollectedAndItsEntryIsGone() throws Exception {
        Spawn spawn = Native.load("c", Spawn.class);
        IntByReference pid = new IntByReference();
        assertEquals(0, spawn.posix_spawnp(pid, "true", null, null, new StringArray(new String[] {"true"}), new StringArray(new String[0])));
        long child = pid.getValue();
        ProcFs proc = new ProcFs();
        assertTrue("the exited child stays a zombie while nobody waits for it", waitFor(() -> proc.stat(child).map(ProcessStat::zombie).orElse(false)));

        InheritedZombieCollector collector = new InheritedZombieCollector(InheritedZombies.ofThisProcess(), Native.load("c", InheritedZombieCollector.LibC.class));
        assertEquals(1, collector.collect(List.of(child)));

        assertFalse("collected, the entry is gone", proc.stat(child).isPresent());
        assertEquals("a pid that is not (or no longer) our child is left alone", 0, collector.collect(List.of(child, 1L)));
    }

    /**
     * What a safe restart does, in a JVM of its own: it starts a child the usual Java way, then
     * re-executes itself in place through libc's execv as Jenkins' {@code UnixLifecycle} does; the
     * new program finds the old one's exited child and collects it.
     */
    @Test
    public void aChildOfTheJvmBeforeAnExecIsCollectedByTheJvmAfterIt() throws Exception {
        String javaCommand = ProcessHandle.current().info().command().orElseThrow();
        java.nio.file.Path log = java.nio.file.Files.createTempFile("reexec", ".log");
        String out;
        try {
            Process jvm = new ProcessBuilder(javaCommand, "-cp", System.getProperty("java.class.path"), Reexec.class.getName(), "before")
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                assertTrue("the re-executed JVM ends", jvm.waitFor(120, TimeUnit.SECONDS));
            } finally {
                jvm.destroyForcibly().waitFor();
            }
            out = java.nio.file.Files.readString(log);
            assertEquals(out, 0, jvm.exitValue());
        } finally {
            java.nio.file.Files.delete(log);
        }
        assertTrue(out, out.contains("same pid true"));
        assertTrue(out, out.contains("found true"));
        assertTrue(out, out.contains("collected 1"));
        assertTrue(out, out.contains("gone true"));
    }

    /** The JVM of the test above: "before" starts a child and re-executes itself; "after PID CHILD" checks. */
    public static final class Reexec {
        interface Exec extends Library {
            int execv(String path, StringArray argv);
        }

        public static void main(String[] args) throws Exception {
            long self = ProcessHandle.current().pid();
            if (args[0].equals("before")) {
                Process child = new ProcessBuilder("sleep", "1").start();
                String javaCommand = ProcessHandle.current().info().command().orElseThrow();
                String[] argv = {javaCommand, "-cp", System.getProperty("java.class.path"), Reexec.class.getName(), "after",
                    Long.toString(self), Long.toString(child.pid())};
                Native.load("c", Exec.class).execv(javaCommand, new StringArray(argv));
                System.out.println("execv failed");
                System.exit(2);
            }
            long child = Long.parseLong(args[2]);
            System.out.println("same pid " + (self == Long.parseLong(args[1])));
            ProcFs proc = new ProcFs();
            waitFor(() -> proc.stat(child).map(ProcessStat::zombie).orElse(false));
            InheritedZombies finder = InheritedZombies.ofThisProcess();
            System.out.println("found " + finder.find().contains(child));
            InheritedZombieCollector collector = new InheritedZombieCollector(finder, Native.load("c", InheritedZombieCollector.LibC.class));
            System.out.println("collected " + collector.collect(finder.find()));
            System.out.println("gone " + proc.stat(child).isEmpty());
            System.exit(0);
        }
    }

    @Test
    public void aPassOverTheRealProcessFindsNothingThisJvmStartedItself() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Optional.ofNullable(InheritedZombieCollector.forThisProcess()).orElseThrow().collect(new StreamTaskListener(out, StandardCharsets.UTF_8));
        assertEquals("", out.toString(StandardCharsets.UTF_8));
    }

    private static boolean waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 500; i++) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(10);
        }
        return false;
    }
}
