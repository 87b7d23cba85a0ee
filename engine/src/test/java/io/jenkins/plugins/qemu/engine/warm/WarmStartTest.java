package io.jenkins.plugins.qemu.engine.warm;

import io.jenkins.plugins.qemu.engine.testing.TestImages;

/** The warm-start scenarios on our own image, which carries the identity service. */
class WarmStartTest extends WarmStartScenarios {
    @Override
    String image() {
        return TestImages.IMAGE;
    }
}
