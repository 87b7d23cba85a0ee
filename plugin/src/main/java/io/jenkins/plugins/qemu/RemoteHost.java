package io.jenkins.plugins.qemu;

import hudson.remoting.Channel;
import hudson.remoting.VirtualChannel;
import io.jenkins.plugins.qemu.engine.host.HostChannel;
import io.jenkins.plugins.qemu.engine.host.HostRequest;
import io.jenkins.plugins.qemu.engine.host.HostSetup;
import java.io.IOException;
import java.io.Serializable;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The engine's {@link HostChannel} over a QEMU host agent's remoting channel: each request travels
 * as a {@link HostCall}. Before the first call on a channel the plugin's jars (the engine, Apache
 * SSHD and the rest of WEB-INF/lib) are preloaded to the agent's jar cache: the engine's first
 * call then takes about a second instead of several (classes otherwise come one by one over the
 * channel), and the host side can still load the classes it needs to close when its channel is
 * already closing.
 */
final class RemoteHost implements HostChannel {
    private static final Logger LOGGER = Logger.getLogger(RemoteHost.class.getName());
    /** Set on the controller's end of a host channel once the jars were preloaded there. */
    private static final String PRELOADED = RemoteHost.class.getName() + ".preloaded";

    private final VirtualChannel channel;
    private final HostSetup setup;

    RemoteHost(VirtualChannel channel, HostSetup setup) {
        this.channel = channel;
        this.setup = setup;
    }

    @Override
    public String host() {
        return setup.host();
    }

    VirtualChannel channel() {
        return channel;
    }

    HostSetup setup() {
        return setup;
    }

    @Override
    public <R extends Serializable> R call(HostRequest<R> request) throws IOException, InterruptedException {
        preload();
        return channel.call(new HostCall<>(setup, request));
    }

    private void preload() throws InterruptedException {
        if (!(channel instanceof Channel ch) || ch.getProperty(PRELOADED) != null) {
            return;
        }
        // Not locked: two first calls at once preload twice, which costs time, not correctness.
        ClassLoader loader = RemoteHost.class.getClassLoader();
        List<URL> jars = new ArrayList<>();
        if (loader instanceof URLClassLoader urls) {
            for (URL u : urls.getURLs()) {
                if (u.getPath().endsWith(".jar")) {
                    jars.add(u);
                }
            }
        }
        long start = System.nanoTime();
        try {
            if (!jars.isEmpty()) {
                ch.preloadJar(loader, jars.toArray(URL[]::new));
            }
            ch.setProperty(PRELOADED, Boolean.TRUE);
            LOGGER.info(() -> "host " + setup.host() + ": preloaded " + jars.size() + " jars of the QEMU plugin in "
                    + (System.nanoTime() - start) / 1_000_000 + " ms");
        } catch (IOException e) {
            // Classes then come one by one on first use: slower, not wrong. Try again next call.
            LOGGER.log(Level.WARNING, "host " + setup.host() + ": preloading the QEMU plugin's jars failed", e);
        }
    }
}
