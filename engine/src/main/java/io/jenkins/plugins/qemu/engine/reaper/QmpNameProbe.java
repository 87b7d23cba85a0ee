package io.jenkins.plugins.qemu.engine.reaper;

import com.fasterxml.jackson.databind.JsonNode;
import io.jenkins.plugins.qemu.engine.qmp.QmpClient;
import io.jenkins.plugins.qemu.engine.qmp.QmpException;
import io.jenkins.plugins.qemu.engine.qmp.QmpReactor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Asks a QMP socket which VM it belongs to ({@code query-name}). A socket that does not answer in
 * time (QEMU busy, or another client connected: QMP serves one at a time) yields empty, which the
 * reaper treats as "no evidence either way". The reactor thread exists only while a pass needs it.
 */
final class QmpNameProbe implements AutoCloseable {
    private final Duration timeout;
    private QmpReactor reactor;

    QmpNameProbe(Duration timeout) {
        this.timeout = timeout;
    }

    Optional<String> queryName(Path socket) throws InterruptedException {
        if (!Files.exists(socket)) {
            return Optional.empty();
        }
        try (QmpClient client = QmpClient.connect(socket, timeout, reactor())) {
            JsonNode r = client.execute("query-name", timeout);
            return Optional.of(r.path("name").asText(""));
        } catch (QmpException e) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private QmpReactor reactor() throws IOException {
        if (reactor == null) {
            reactor = new QmpReactor("qemu-agents-reaper-qmp");
        }
        return reactor;
    }

    @Override
    public void close() {
        if (reactor != null) {
            reactor.close();
        }
    }
}
