package io.jenkins.plugins.qemu.engine.warm;

import io.jenkins.plugins.qemu.engine.testing.TestImages;
import java.io.IOException;

/**
 * The warm-start scenarios on a stock cloud image (Debian packages only, none of our units): the
 * snapshot boot goes through cloud-init, which installs the identity service for the restores.
 */
class StockImageWarmStartTest extends WarmStartScenarios {
    @Override
    String image() throws IOException {
        return TestImages.stockImage();
    }

    /** Restoring a stale or refused snapshot is the same decision on any image; the stock image's own risks are its identity and agent. */
    @Override
    boolean runsImageAgnosticScenarios() {
        return false;
    }
}
