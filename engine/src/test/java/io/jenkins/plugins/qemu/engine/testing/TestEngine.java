package io.jenkins.plugins.qemu.engine.testing;

import io.jenkins.plugins.qemu.engine.QemuEngine;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The engine a test class boots its real guests with: started on a fresh short state directory
 * before the class's own {@code @BeforeAll}, closed after its {@code @AfterAll}, and then the state
 * directory must be empty (every VM removed its folder), which is asserted and the directory
 * removed. Register it as {@code @RegisterExtension static final TestEngine ENGINE = new TestEngine();}.
 */
public final class TestEngine implements BeforeAllCallback, AfterAllCallback {
    private Path stateDir;
    private QemuEngine engine;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        stateDir = TestImages.shortTempDir();
        engine = new QemuEngine(TestImages.config(stateDir));
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        TestImages.closeAndAssertNothingLeft(engine, stateDir);
    }

    public QemuEngine engine() {
        return engine;
    }

    public Path stateDir() {
        return stateDir;
    }
}
