package io.jenkins.plugins.qemu.engine.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link JsonLineFramer} in isolation: chunking must never change which messages come out. */
class QmpFramingTest {

    private static List<String> feedInChunks(JsonLineFramer framer, byte[] data, Random random, int maxChunk)
            throws Exception {
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < data.length) {
            int n = Math.min(data.length - i, 1 + random.nextInt(maxChunk));
            framer.feed(ByteBuffer.wrap(data, i, n),
                    (buf, off, len) -> out.add(new String(buf, off, len, StandardCharsets.UTF_8)));
            i += n;
        }
        return out;
    }

    @Test
    void arbitraryChunkingYieldsTheSameMessages() throws Exception {
        List<String> messages = new ArrayList<>();
        StringBuilder stream = new StringBuilder();
        for (int i = 0; i < 300; i++) {
            String m = "{\"i\": " + i + ", \"s\": \"" + "é".repeat(i % 7) + "x".repeat((i * 37) % 5000) + "\"}";
            messages.add(m);
            stream.append(m).append(i % 3 == 0 ? "\n" : "\r\n");
        }
        byte[] data = stream.toString().getBytes(StandardCharsets.UTF_8);
        Random random = new Random(42);
        for (int maxChunk : new int[] {1, 2, 7, 100, 4096, 70000, data.length}) {
            assertEquals(messages, feedInChunks(new JsonLineFramer(1 << 20), data, random, maxChunk),
                    "maxChunk " + maxChunk);
        }
    }

    @Test
    void blankLinesAreSkippedAndPartialTailIsKept() throws Exception {
        JsonLineFramer framer = new JsonLineFramer(1 << 20);
        byte[] data = "\r\n{\"a\":1}\r\n  \r\n{\"b\":2}\n{\"c\"".getBytes(StandardCharsets.UTF_8);
        List<String> out = feedInChunks(framer, data, new Random(1), data.length);
        assertEquals(List.of("{\"a\":1}", "{\"b\":2}"), out);
        assertEquals(4, framer.pendingBytes());
        out.addAll(feedInChunks(framer, ":3}\r\n".getBytes(StandardCharsets.UTF_8), new Random(1), 100));
        assertEquals(List.of("{\"a\":1}", "{\"b\":2}", "{\"c\":3}"), out);
        assertEquals(0, framer.pendingBytes());
    }

    @Test
    void largeMessageInSmallPieces() throws Exception {
        String big = "{\"return\": \"" + "z".repeat(300 * 1024) + "\"}";
        byte[] data = (big + "\r\n").getBytes(StandardCharsets.UTF_8);
        List<String> out = feedInChunks(new JsonLineFramer(1 << 20), data, new Random(7), 1500);
        assertEquals(List.of(big), out);
    }

    @Test
    void runawayMessageIsRejected() {
        JsonLineFramer framer = new JsonLineFramer(1024);
        byte[] data = "x".repeat(2000).getBytes(StandardCharsets.UTF_8);
        assertThrows(IllegalStateException.class,
                () -> framer.feed(ByteBuffer.wrap(data), (buf, off, len) -> { }));
    }
}
