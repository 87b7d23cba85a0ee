package io.jenkins.plugins.qemu;

import hudson.remoting.Channel;
import io.jenkins.plugins.qemu.engine.host.HostRequest;
import io.jenkins.plugins.qemu.engine.host.HostSetup;
import io.jenkins.plugins.qemu.engine.host.HostSide;
import java.io.IOException;
import java.io.Serializable;
import java.util.logging.Level;
import java.util.logging.Logger;
import jenkins.security.MasterToSlaveCallable;

/**
 * One engine {@link HostRequest} sent to a QEMU host's agent and run there against the host's
 * {@link HostSide}. The host side is opened on the first call of a channel from the controller's
 * {@link HostSetup} and kept in a channel property (there is one engine per host connection); it
 * is closed, destroying that connection's VMs, when the channel closes, and by a JVM shutdown hook
 * when the agent's JVM ends first. A VM therefore never outlives the connection that wanted it; an
 * agent JVM killed outright leaves its VMs to the next engine's start-up reap on the same state
 * directory.
 */
final class HostCall<R extends Serializable> extends MasterToSlaveCallable<R, IOException> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOGGER = Logger.getLogger(HostCall.class.getName());
    /** The channel property (on the host's end) that holds the open host side. */
    static final String SIDE_PROPERTY = HostCall.class.getName() + ".side";

    private final HostSetup setup;
    private final HostRequest<R> request;

    HostCall(HostSetup setup, HostRequest<R> request) {
        this.setup = setup;
        this.request = request;
    }

    @Override
    public R call() throws IOException {
        HostSide side = sideOf(getOpenChannelOrFail(), setup).side();
        try {
            return request.runOn(side);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted on host " + setup.host() + " while running " + request.getClass().getSimpleName(), e);
        }
    }

    /**
     * The channel's open host side, opened now if there is none or if the controller's setup
     * changed (the admin edited the host's directories: the old engine and its VMs go first).
     */
    static OpenHost sideOf(Channel channel, HostSetup setup) throws IOException {
        // One lock for every channel of this JVM: opening is rare, and it must not race the close listener.
        synchronized (OpenHost.class) {
            Object kept = channel.getProperty(SIDE_PROPERTY);
            if (kept instanceof OpenHost open && open.side().setup().equals(setup) && !open.closed) {
                return open;
            }
            if (kept instanceof OpenHost old) {
                old.close("the controller changed the host's settings");
            }
            OpenHost open = new OpenHost(HostSide.open(setup));
            channel.setProperty(SIDE_PROPERTY, open);
            channel.addListener(open);
            Runtime.getRuntime().addShutdownHook(open.hook);
            return open;
        }
    }

    /** A host side with its two ways to be closed: the channel's end and the JVM's. Whichever comes first closes it. */
    static final class OpenHost extends Channel.Listener {
        private final HostSide side;
        private final Thread hook;
        private boolean closed; // guarded by OpenHost.class

        OpenHost(HostSide side) {
            this.side = side;
            this.hook = new Thread(() -> close("the agent's JVM is ending"), "qemu-agents host " + side.host() + " shutdown");
        }

        HostSide side() {
            return side;
        }

        @Override
        public void onClosed(Channel channel, IOException cause) {
            close("its connection to the controller closed");
        }

        void close(String why) {
            synchronized (OpenHost.class) {
                if (closed) {
                    return;
                }
                closed = true;
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down (maybe in this very hook); nothing to unregister
            }
            LOGGER.info(() -> "host " + side.host() + ": closing its QEMU engine and destroying its VMs: " + why);
            try {
                side.close();
            } catch (IOException | RuntimeException e) {
                LOGGER.log(Level.WARNING, "host " + side.host() + ": closing its QEMU engine failed", e);
            }
        }
    }
}
