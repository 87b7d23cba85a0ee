package io.jenkins.plugins.qemu.engine.qmp;

/**
 * Receives asynchronous events and the end of one {@link QmpClient} connection. Callbacks for one connection
 * run one at a time, in arrival order, on the client's callback executor (never on the reactor thread), and
 * {@link #onClosed} is the last callback a listener gets; a listener may therefore block or call
 * {@link QmpClient#execute} without stalling other VMs, though it delays later callbacks of its own connection.
 */
public interface QmpListener {

    /** An asynchronous event arrived. Exceptions thrown here are logged and otherwise ignored. */
    default void onEvent(QmpEvent event) {
    }

    /**
     * The connection ended. {@code causeOrNull} is null when it was closed locally via {@link QmpClient#close()};
     * otherwise it says why: a {@link QmpException} for end-of-file from QEMU (it exited or closed the socket,
     * which is expected after {@code quit}), an I/O error or a protocol violation. Delivered exactly once, also
     * to listeners added after the connection had already closed.
     */
    default void onClosed(Throwable causeOrNull) {
    }
}
