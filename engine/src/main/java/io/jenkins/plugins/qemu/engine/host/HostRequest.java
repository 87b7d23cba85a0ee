package io.jenkins.plugins.qemu.engine.host;

import java.io.IOException;
import java.io.Serializable;

/**
 * One operation the controller asks a host to carry out, as a value: it is serialised, sent
 * (through the Jenkins remoting channel of the host's agent, or to the controller's own host in
 * the same JVM), and run there against that host's {@link HostSide}. A request carries no state of
 * the controller, only plain values, and its answer is serialisable too.
 *
 * @param <R> the answer sent back
 */
public interface HostRequest<R extends Serializable> extends Serializable {

    /** Carries the request out on the host it was sent to. */
    R runOn(HostSide host) throws IOException, InterruptedException;
}
