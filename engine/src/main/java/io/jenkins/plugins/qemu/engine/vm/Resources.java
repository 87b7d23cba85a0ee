package io.jenkins.plugins.qemu.engine.vm;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.logging.Logger;

/**
 * Everything one VM has made so far, released once and last in first out: the folder first
 * made goes last, after QEMU has stopped using the files in it. Once closing has begun, a
 * resource handed in is released at once and the boot that made it stops, so a destroy that
 * races a boot never leaks what the boot was about to register. Its monitor also guards the
 * VM's record and phase against a concurrent destroy.
 */
final class Resources {
    private static final Logger LOG = Logger.getLogger(Resources.class.getName());

    /** How a resource is let go. */
    @FunctionalInterface
    interface Release {
        void run() throws Exception;
    }

    /** Work that must not start once closing has begun. */
    @FunctionalInterface
    interface Guarded {
        void run() throws Exception;
    }

    private record Entry(String name, Release release) {}

    private final String vmId;
    private final Deque<Entry> stack = new ArrayDeque<>();
    private boolean closing;

    Resources(String vmId) {
        this.vmId = vmId;
    }

    /** Takes ownership of a resource; if closing has begun, releases it and throws "cancelled". */
    void add(String name, Release release) throws Exception {
        synchronized (this) {
            if (!closing) {
                stack.push(new Entry(name, release));
                return;
            }
        }
        release(new Entry(name, release));
        throw new InterruptedException("cancelled");
    }

    /** Runs {@code body} under this VM's lock unless closing has begun (then throws "cancelled"). */
    synchronized void whileOpen(Guarded body) throws Exception {
        if (closing) {
            throw new InterruptedException("cancelled");
        }
        body.run();
    }

    /** How many resources are held; a later {@link #releaseTo} returns to this point. */
    synchronized int mark() {
        return stack.size();
    }

    /** Releases what was added after {@code mark}, e.g. a failed restore's, so a cold boot starts clean. */
    void releaseTo(int mark) {
        List<Entry> out = new ArrayList<>();
        synchronized (this) {
            while (stack.size() > mark) {
                out.add(stack.pop());
            }
        }
        out.forEach(this::release);
    }

    /** Marks this VM as closing; true for the first caller only, who then calls {@link #releaseAll()}. */
    synchronized boolean beginClosing() {
        if (closing) {
            return false;
        }
        closing = true;
        return true;
    }

    void releaseAll() {
        releaseTo(0);
    }

    private void release(Entry e) {
        try {
            e.release().run();
        } catch (Exception ex) {
            LOG.warning("[" + vmId + "] releasing " + e.name() + ": " + ex);
            if (ex instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
