package io.jenkins.plugins.qemu.engine.qmp;

import java.nio.ByteBuffer;

/**
 * Splits the QMP byte stream into newline-terminated messages. Bytes arrive in arbitrary chunks (a message split
 * over many reads, several messages in one read, a {@code query-qmp-schema} reply of hundreds of KB), so the
 * framer accumulates and remembers how far it has scanned, which keeps a huge message arriving in small pieces
 * linear instead of quadratic. Not thread-safe: only the reactor thread touches it.
 */
final class JsonLineFramer {

    /** Receives one complete line without its terminator; the array is only valid during the call. */
    interface LineSink {
        void line(byte[] buf, int offset, int length) throws Exception;
    }

    private final int maxMessageBytes;
    private static final int INITIAL_CAPACITY = 8192;
    private static final int SHRINK_ABOVE = 64 * 1024;

    private byte[] buf = new byte[INITIAL_CAPACITY];
    private int start; // first byte of the current, incomplete line
    private int scanned; // bytes before this index (and after start) are known not to be '\n'
    private int end; // one past the last buffered byte

    JsonLineFramer(int maxMessageBytes) {
        this.maxMessageBytes = maxMessageBytes;
    }

    /** Appends {@code data} (consuming it) and hands every now-complete line to {@code sink}. */
    void feed(ByteBuffer data, LineSink sink) throws Exception {
        int n = data.remaining();
        ensureCapacity(n);
        data.get(buf, end, n);
        end += n;
        emitLines(sink);
    }

    /** Number of buffered bytes of a message whose newline has not arrived yet. */
    int pendingBytes() {
        return end - start;
    }

    private void emitLines(LineSink sink) throws Exception {
        for (int i = scanned; i < end; i++) {
            if (buf[i] == '\n') {
                int lineEnd = i;
                // QEMU's monitor terminates lines with "\r\n"; Jackson would tolerate the '\r', but blank-line
                // detection should not have to.
                if (lineEnd > start && buf[lineEnd - 1] == '\r') {
                    lineEnd--;
                }
                if (!isBlank(start, lineEnd)) {
                    sink.line(buf, start, lineEnd - start);
                }
                start = i + 1;
            }
        }
        scanned = end;
        if (start == end) {
            start = scanned = end = 0;
            if (buf.length > SHRINK_ABOVE) {
                // One schema dump should not pin hundreds of KB per idle VM for its lifetime.
                buf = new byte[INITIAL_CAPACITY];
            }
        } else if (end - start > maxMessageBytes) {
            throw new IllegalStateException("QMP message exceeds " + maxMessageBytes + " bytes without a newline");
        }
    }

    private boolean isBlank(int from, int to) {
        for (int i = from; i < to; i++) {
            byte b = buf[i];
            if (b != ' ' && b != '\t' && b != '\r') {
                return false;
            }
        }
        return true;
    }

    private void ensureCapacity(int extra) {
        if (end + extra <= buf.length) {
            return;
        }
        int live = end - start;
        if (start > 0 && live + extra <= buf.length) {
            // Compact instead of growing: the consumed prefix is dead.
            System.arraycopy(buf, start, buf, 0, live);
        } else {
            int size = buf.length;
            while (size < live + extra) {
                size *= 2;
            }
            byte[] bigger = new byte[size];
            System.arraycopy(buf, start, bigger, 0, live);
            buf = bigger;
        }
        scanned -= start;
        end = live;
        start = 0;
    }

    @Override
    public String toString() {
        return "JsonLineFramer[pending=" + pendingBytes() + ", capacity=" + buf.length + "]";
    }
}
