package io.jenkins.plugins.qemu.engine.qmp;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A QMP operation failed: QEMU answered a command with an {@code error} object (then {@link #errorClass()} and
 * {@link #errorDesc()} are set), the connection closed or broke while the command was outstanding, or the
 * connection could not be established. The message always names the socket and, where there is one, the
 * command, because with many VMs per controller an anonymous "connection closed" is useless.
 */
public class QmpException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path socket;
    private final String command;
    private final String errorClass;
    private final String errorDesc;

    /** A failure that is not an error reply from QEMU (I/O, closed connection, protocol violation). */
    public QmpException(String message, Path socket, String command, Throwable cause) {
        this(message, socket, command, null, null, cause);
    }

    /** The full form; {@code errorClass}/{@code errorDesc} are QEMU's, or null when QEMU did not reply. */
    public QmpException(String message, Path socket, String command, String errorClass, String errorDesc,
            Throwable cause) {
        super(message, cause);
        this.socket = socket;
        this.command = command;
        this.errorClass = errorClass;
        this.errorDesc = errorDesc;
    }

    /** An {@code {"error": {"class": ..., "desc": ...}}} reply to {@code command}. */
    static QmpException errorReply(Path socket, String command, String errorClass, String errorDesc) {
        return new QmpException("QMP command '" + command + "' failed on " + socket + ": " + errorClass + ": "
                + errorDesc, socket, command, errorClass, errorDesc, null);
    }

    /** The QMP socket of the connection, or null if unknown. */
    public Path socket() {
        return socket;
    }

    /** The QMP command this failure belongs to, or null when it concerns the connection as a whole. */
    public String command() {
        return command;
    }

    /** QEMU's error class (e.g. {@code CommandNotFound}, {@code GenericError}), or null if QEMU did not reply. */
    public String errorClass() {
        return errorClass;
    }

    /** QEMU's human-readable error description, or null if QEMU did not reply. */
    public String errorDesc() {
        return errorDesc;
    }

    /**
     * A copy thrown on the caller's thread: the original was created on the reactor (or a closing) thread, and
     * its stack trace would not show who issued the command. The original is kept as the cause.
     */
    QmpException rethrowable() {
        return new QmpException(getMessage(), socket, command, errorClass, errorDesc, this);
    }
}
