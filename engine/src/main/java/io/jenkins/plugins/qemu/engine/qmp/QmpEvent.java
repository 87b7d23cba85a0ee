package io.jenkins.plugins.qemu.engine.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.time.Instant;

/**
 * An asynchronous QMP event such as {@code SHUTDOWN}, {@code POWERDOWN}, {@code STOP} or {@code RESUME}.
 * {@code data} is the event's {@code data} object (an empty object when QEMU sent none), {@code timestamp} is
 * QEMU's own clock (null if QEMU did not provide one), and {@code raw} is the whole message for anything else.
 * The JSON nodes are shared between listeners and must be treated as read-only.
 */
public record QmpEvent(String name, JsonNode data, Instant timestamp, JsonNode raw) {

    /** Event name QEMU emits when the guest has shut down or QEMU is about to exit. */
    public static final String SHUTDOWN = "SHUTDOWN";

    static QmpEvent fromMessage(JsonNode msg) {
        JsonNode data = msg.get("data");
        if (data == null || data.isNull()) {
            data = JsonNodeFactory.instance.objectNode();
        }
        Instant ts = null;
        JsonNode t = msg.get("timestamp");
        // QEMU reports -1/-1 when it could not read the clock.
        if (t != null && t.path("seconds").asLong(-1) >= 0) {
            ts = Instant.ofEpochSecond(t.path("seconds").asLong(), Math.max(0, t.path("microseconds").asLong()) * 1000);
        }
        return new QmpEvent(msg.path("event").asText(), data, ts, msg);
    }
}
