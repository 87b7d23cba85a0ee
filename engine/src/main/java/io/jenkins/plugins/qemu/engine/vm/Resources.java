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
 *
 * <p>A leased VM may instead be left running when its engine closes ({@link #detachAll()}): then
 * only what ties it to this JVM (its QMP connection, SSH sessions) is let go, and QEMU, its
 * network helper and its folder stay for the engine that adopts it.
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

    /** {@code detach} is what leaving the VM running lets go of; null: nothing (the resource stays with the VM). */
    private record Entry(String name, Release release, Release detach) {}

    private final String vmId;
    private final Deque<Entry> stack = new ArrayDeque<>();
    private boolean closing;

    Resources(String vmId) {
        this.vmId = vmId;
    }

    /** Takes ownership of a resource; if closing has begun, releases it and throws "cancelled". */
    void add(String name, Release release) throws Exception {
        add(name, release, null);
    }

    /** As {@link #add(String, Release)}, with what {@link #detachAll()} runs instead of the release. */
    void add(String name, Release release, Release detach) throws Exception {
        Entry entry = new Entry(name, release, detach);
        synchronized (this) {
            if (!closing) {
                stack.push(entry);
                return;
            }
        }
        release(entry);
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

    /** After {@link #beginClosing()}: lets go of this JVM's ties only, last in first out; the VM keeps running. */
    void detachAll() {
        List<Entry> out = new ArrayList<>();
        synchronized (this) {
            while (!stack.isEmpty()) {
                out.add(stack.pop());
            }
        }
        for (Entry e : out) {
            if (e.detach() != null) {
                run(e.name(), e.detach());
            }
        }
    }

    private void release(Entry e) {
        run(e.name(), e.release());
    }

    private void run(String name, Release action) {
        try {
            action.run();
        } catch (Exception ex) {
            LOG.warning("[" + vmId + "] releasing " + name + ": " + ex);
            if (ex instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
