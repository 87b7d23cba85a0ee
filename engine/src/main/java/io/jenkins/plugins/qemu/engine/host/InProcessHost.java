package io.jenkins.plugins.qemu.engine.host;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;

/**
 * A host in this JVM (the controller's own machine), reached the way a remote one is: every
 * request and every answer goes through Java serialisation, so what works here works over a
 * remoting channel too, and a request that would drag controller state along fails here first.
 */
public final class InProcessHost implements HostChannel {
    private final HostSide side;

    public InProcessHost(HostSide side) {
        this.side = side;
    }

    @Override
    public String host() {
        return side.host();
    }

    @Override
    public <R extends Serializable> R call(HostRequest<R> request) throws IOException, InterruptedException {
        HostRequest<R> sent = roundTrip(request);
        return roundTrip(sent.runOn(side));
    }

    /** A copy of {@code value} made by serialising and deserialising it. */
    @SuppressWarnings("unchecked")
    static <T extends Serializable> T roundTrip(T value) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(value);
        } catch (IOException e) {
            throw new IOException("cannot send " + value.getClass().getName() + " to a host: " + e, e);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (T) in.readObject();
        } catch (ClassNotFoundException e) {
            throw new IOException("cannot read back " + value.getClass().getName() + ": " + e, e);
        }
    }
}
