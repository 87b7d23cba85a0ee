package io.jenkins.plugins.qemu.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class RunCommandTest {
    @Test
    void diskOptionSetsTheVmsDiskSize() {
        RunCommand.Options o = RunCommand.Options.parse(List.of("--image", "debian-12", "--disk", "6G", "--", "df", "-h", "/"));
        assertEquals(6 * 1024, o.spec().diskSizeMiB());
        assertEquals(List.of("df", "-h", "/"), o.command());
    }

    @Test
    void withoutTheOptionTheImagesSizeIsKept() {
        assertEquals(0, RunCommand.Options.parse(List.of("--image", "debian-12", "--", "true")).spec().diskSizeMiB());
    }
}
