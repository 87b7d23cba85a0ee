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
}
