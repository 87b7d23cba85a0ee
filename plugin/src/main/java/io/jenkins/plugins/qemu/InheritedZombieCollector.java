package io.jenkins.plugins.qemu;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import hudson.model.TaskListener;
import io.jenkins.plugins.qemu.engine.state.InheritedZombies;
import java.io.IOException;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Collects the exited QEMU processes and network helpers this controller process inherited from
 * the JVM that ran before a safe restart, which {@link InheritedZombies} finds: Jenkins re-executes
 * itself in place, the re-attached VMs stay children of the new JVM, and Java cannot wait for a
 * child it did not start, so without this each destroyed one stays a zombie entry until the
 * controller exits. It calls libc's {@code waitpid} through JNA (which Jenkins core ships) with
 * {@code WNOHANG}, so a cleanup pass never blocks; where libc cannot be loaded it says so once.
 */
final class InheritedZombieCollector {
    private static final Logger LOGGER = Logger.getLogger(InheritedZombieCollector.class.getName());
    private static final int WNOHANG = 1;

    /** The one libc call needed; JNA binds it by name. */
    interface LibC extends Library {
        int waitpid(int pid, Pointer status, int options);
    }

    private final InheritedZombies finder;
    private final LibC libc;

    InheritedZombieCollector(InheritedZombies finder, LibC libc) {
        this.finder = finder;
        this.libc = libc;
    }

    /** For this controller process; null (after one log line) where libc cannot be loaded. */
    static InheritedZombieCollector forThisProcess() {
        try {
            return new InheritedZombieCollector(InheritedZombies.ofThisProcess(), Native.load("c", LibC.class));
        } catch (LinkageError e) {
            LOGGER.log(Level.INFO, "Cannot load libc to collect QEMU processes left from before a safe restart; "
                    + "each one destroyed after such a restart stays a zombie process entry until the controller exits", e);
            return null;
        }
    }

    /** Collects what the finder lists now; says in the listener how many it collected. */
    void collect(TaskListener listener) {
        List<Long> pids;
        try {
            pids = finder.find();
        } catch (IOException e) {
            LOGGER.log(Level.FINE, "Cannot list this process's children", e);
            return;
        }
        int collected = collect(pids);
        if (collected > 0) {
            listener.getLogger().println("Collected " + collected + " exited QEMU or helper process(es) "
                    + "left from the JVM that ran before the last restart: " + pids);
        }
    }

    /** {@code waitpid(pid, WNOHANG)} for each; the number the kernel says were collected. */
    int collect(List<Long> pids) {
        int collected = 0;
        for (long pid : pids) {
            if (libc.waitpid((int) pid, null, WNOHANG) == pid) {
                collected++;
            }
        }
        return collected;
    }
}
