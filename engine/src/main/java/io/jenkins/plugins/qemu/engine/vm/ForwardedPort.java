package io.jenkins.plugins.qemu.engine.vm;

import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the host port QEMU bound for a {@code hostfwd=tcp:127.0.0.1:0-:22} forward from the HMP
 * {@code info usernet} table. Asking QEMU, instead of picking a free port ourselves and passing
 * it in, leaves no window in which another process could take the port.
 */
public final class ForwardedPort {
    // "  TCP[HOST_FORWARD]  13   127.0.0.1 42385       10.0.2.15    22     0     0"
    private static final Pattern ROW = Pattern.compile(
            "TCP\\[HOST_FORWARD\\]\\s+\\d+\\s+(\\S+)\\s+(\\d+)\\s+(\\S+)\\s+(\\d+)\\b");

    private ForwardedPort() {}

    public static OptionalInt parse(String infoUsernet, int guestPort) {
        Matcher m = ROW.matcher(infoUsernet);
        while (m.find()) {
            int host = Integer.parseInt(m.group(2));
            int guest = Integer.parseInt(m.group(4));
            if (guest == guestPort && host > 0 && host < 65536) {
                return OptionalInt.of(host);
            }
        }
        return OptionalInt.empty();
    }
}
