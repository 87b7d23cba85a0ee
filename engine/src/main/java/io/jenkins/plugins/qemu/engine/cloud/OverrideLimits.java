package io.jenkins.plugins.qemu.engine.cloud;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.config.Validation;
import java.io.Serializable;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * How far a template lets one build go beyond its own settings ({@link BuildOverride}): at most
 * {@code maxCpus} vCPUs, {@code maxMemoryMiB} of memory, {@code maxDiskMiB} of disk, and one of
 * {@code images} instead of its own image. A build may always ask for less than the template; a 0
 * (or an empty set) lets it ask for no more. The cloud's caps and host budget bound every VM on top.
 * The maximum keep time of a failed build's VM a build may ask for is the template's own, or
 * {@link #BUILD_KEEP_FAILED_MINUTES} if that is longer.
 */
public record OverrideLimits(int maxCpus, long maxMemoryMiB, long maxDiskMiB, Set<String> images) implements Serializable {
    private static final long serialVersionUID = 1L;
    /** What a build may ask for as keep time of its failed VM when its template keeps none or less. */
    public static final int BUILD_KEEP_FAILED_MINUTES = 60;
    public static final OverrideLimits NONE = new OverrideLimits(0, 0, 0, Set.of());

    public OverrideLimits {
        images = Set.copyOf(images);
    }

    /** The limits from a form's or YAML's raw values; blank means "no more than the template". */
    static OverrideLimits parse(int maxCpus, String maxMemory, String maxDiskSize, String images) {
        Set<String> names = new LinkedHashSet<>();
        if (images != null && !images.isBlank()) {
            for (String name : Arrays.asList(images.trim().split("[\\s,]+"))) {
                names.add(Validation.imageName("overrideImages", name));
            }
        }
        return new OverrideLimits(
                maxCpus == 0 ? 0 : Validation.cpus("maxCpus", maxCpus),
                maxMemory == null || maxMemory.isBlank() ? 0 : Validation.memoryMiB("maxMemory", maxMemory),
                maxDiskSize == null || maxDiskSize.isBlank() ? 0 : Validation.diskSizeMiB("maxDiskSize", maxDiskSize),
                names);
    }

    /** A maximum below the template's own value would forbid the template itself: refused, naming the field. */
    void checkAgainst(TemplateSpec t) {
        below("maxCpus", maxCpus, t.cpus(), maxCpus + "", t.cpus() + " (its CPUs)");
        below("maxMemory", maxMemoryMiB, t.memoryMiB(), Validation.sizeText(maxMemoryMiB), Validation.sizeText(t.memoryMiB()) + " (its memory)");
        below("maxDiskSize", maxDiskMiB, t.diskSizeMiB(), Validation.sizeText(maxDiskMiB), Validation.sizeText(t.diskSizeMiB()) + " (its disk size)");
    }

    private static void below(String field, long max, long own, String maxText, String ownText) {
        if (max != 0 && max < own) {
            throw new InvalidInputException(field, maxText, "is below the template's own " + ownText + "; leave it blank (0 for CPUs) to allow no more");
        }
    }

    /** The vCPUs a build may ask for: the template's own or up to the maximum. */
    int cpusUpTo(int own) {
        return Math.max(own, maxCpus);
    }

    long memoryUpTo(long own) {
        return Math.max(own, maxMemoryMiB);
    }

    long diskUpTo(long own) {
        return Math.max(own, maxDiskMiB);
    }

    int keepFailedUpTo(int own) {
        return Math.max(own, BUILD_KEEP_FAILED_MINUTES);
    }
}
