package io.jenkins.plugins.qemu.engine.qmp;

import java.nio.file.Path;
import java.time.Duration;

/**
 * A QMP command, the connection or the greeting did not complete within its deadline. The command (if any) is
 * abandoned: a reply that arrives later is dropped, and the connection stays usable, since a slow QEMU is not
 * necessarily a broken one; whether to give up on the VM is the caller's decision.
 */
public class QmpTimeoutException extends QmpException {
    private static final long serialVersionUID = 1L;

    private final Duration timeout;

    public QmpTimeoutException(String message, Path socket, String command, Duration timeout, Throwable cause) {
        super(message, socket, command, cause);
        this.timeout = timeout;
    }

    /** The deadline that was exceeded. */
    public Duration timeout() {
        return timeout;
    }

    static QmpTimeoutException forCommand(Path socket, String command, Duration timeout) {
        return new QmpTimeoutException("QMP command '" + command + "' on " + socket + " timed out after "
                + format(timeout), socket, command, timeout, null);
    }

    @Override
    QmpException rethrowable() {
        return new QmpTimeoutException(getMessage(), socket(), command(), timeout, this);
    }

    /** "250 ms" / "5 s": ISO-8601 "PT0.25S" is accurate but unfriendly in an error shown to a Jenkins admin. */
    static String format(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? (ms / 1000) + " s" : ms + " ms";
    }
}
