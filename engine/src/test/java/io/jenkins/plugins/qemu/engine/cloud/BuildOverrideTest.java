package io.jenkins.plugins.qemu.engine.cloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * A build's one-off template: derived from a labelled template with the build's image, size and
 * keep time, each bounded by what the template allows a build, then judged like any template.
 */
class BuildOverrideTest {
    private static TemplateSpec.Builder base() {
        return TemplateSpec.builder().labels("debian-12").image("debian-12").cpus(2).memory("2G").instanceCap(3)
                .jvmOptions("-Xmx256m").warmPool(1);
    }

    private static final TemplateSpec GENEROUS = base().maxCpus(8).maxMemory("16G").maxDiskSize("100G")
            .overrideImages("ubuntu-24.04, fedora-41").build();

    @Test
    void aBuildGetsWhatItAsksForWithinTheLimitsAndTheRestOfItsTemplate() {
        TemplateSpec t = GENEROUS.derive(new BuildOverride("ubuntu-24.04", 8, "16G", "40G", 30), "qemu-oneoff-1");
        assertEquals("qemu-oneoff-1", t.labels());
        assertEquals("ubuntu-24.04", t.image());
        assertEquals(8, t.cpus());
        assertEquals(16 * 1024, t.memoryMiB());
        assertEquals(40 * 1024, t.diskSizeMiB());
        assertEquals(30, t.keepFailedMinutes());
        assertEquals("-Xmx256m", t.jvmOptions(), "the rest is the template's");
        assertEquals(3, t.instanceCap());
        assertEquals(0, t.warmPool(), "a one-off template keeps no pool");
        assertEquals(OverrideLimits.NONE, t.overrideLimits(), "and allows no further overrides");
        assertFalse(t.warmStart(), "another shape has no snapshot of its own");
        assertTrue(GENEROUS.derive(new BuildOverride(null, null, null, null, 10), "l").warmStart(), "the same shape restores as the template does");
        assertEquals(1, GENEROUS.derive(new BuildOverride(null, 1, "1G", null, null), "l").cpus(), "less is always allowed");
    }

    @Test
    void aOneOffTemplateIsCountedUnderItsTemplatesNameNotItsOwnLabel() {
        assertEquals("debian-12", GENEROUS.family());
        assertEquals("debian-12", GENEROUS.derive(new BuildOverride("ubuntu-24.04", 8, null, null, null), "qemu-oneoff-1").family());
        assertEquals("linux+big", base().labels("linux  big").build().family(), "labels joined by +");
        assertEquals("fedora-41", base().labels("").image("fedora-41").build().family(), "no labels: the image");
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
        # what                                  |image       |cpus|memory|disk|keep|field            |message
        more CPUs than the template allows      |            | 4  |      |    |    |cpus             |is more than this template lets a build ask for (at most 2; an administrator raises it with the template's maxCpus)
        more memory                             |            |    | 3G   |    |    |memory           |is more than this template lets a build ask for (at most 2G; an administrator raises it with the template's maxMemory)
        a disk beyond the image's size          |            |    |      | 20G|    |diskSize         |is more than this template lets a build ask for (at most the image's own size; an administrator raises it with the template's maxDiskSize)
        another image                           |fedora-41   |    |      |    |    |image            |is not an image this template lets a build ask for (its own 'debian-12'; an administrator adds images with the template's overrideImages)
        keep a failed VM longer than an hour    |            |    |      |    | 61 |keepFailedMinutes|is more than this template lets a build ask for (at most 60 minutes)
        nonsense is named like any bad input    |            |    | lots |    |    |memory           |is not a size: use a whole number with an optional unit K, M, G or T (e.g. 1024M, 2G)
        """)
    void aTemplateWithoutLimitsAllowsNoMore(String what, String image, Integer cpus, String memory, String disk, Integer keep,
            String field, String message) {
        TemplateSpec plain = base().build();
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> plain.derive(new BuildOverride(image, cpus, memory, disk, keep), "l"), what);
        assertEquals(field, e.field(), what);
        assertTrue(e.getMessage().endsWith(message), e.getMessage());
    }

    @Test
    void limitsBelowTheTemplatesOwnValuesAreRefusedWhenTheTemplateIsSaved() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> base().maxCpus(1).build());
        assertEquals("maxCpus", e.field());
        assertTrue(e.getMessage().contains("below the template's own 2 (its CPUs)"), e.getMessage());
        assertEquals("maxMemory", assertThrows(InvalidInputException.class, () -> base().maxMemory("1G").build()).field());
        assertEquals("overrideImages", assertThrows(InvalidInputException.class, () -> base().overrideImages("Bad Name").build()).field());
        assertEquals(Set.of("ubuntu-24.04", "fedora-41"), GENEROUS.overrideLimits().images());
    }

    @Test
    void theDerivedTemplateIsJudgedAsAWhole() {
        // A one-shot rule of the template itself still holds for the build's template.
        TemplateSpec reused = base().warmPool(0).idleMinutes(10).build();
        assertEquals("keepFailedMinutes", assertThrows(InvalidInputException.class,
                () -> reused.derive(new BuildOverride(null, null, null, null, 5), "l")).field());
    }
}
