package io.jenkins.plugins.qemu.engine.host;

import java.io.IOException;
import java.io.Serializable;

/**
 * The controller's line to one host: sends a {@link HostRequest} and returns its answer, or throws
 * when the host cannot be reached or the request failed there. The plugin's implementation is a
 * call on the host agent's remoting channel; {@link InProcessHost} serves the controller's own host.
 */
public interface HostChannel {

    /** The host's name, as in placement decisions and logs. */
    String host();

    <R extends Serializable> R call(HostRequest<R> request) throws IOException, InterruptedException;
}
