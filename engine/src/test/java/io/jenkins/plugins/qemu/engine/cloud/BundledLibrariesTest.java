package io.jenkins.plugins.qemu.engine.cloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Issue 14, point 9: Jenkins core ships older commons-compress, commons-io, commons-codec and
 * commons-lang3. The plugin pins the engine's versions of them and masks core's copies; this keeps
 * those pins equal to what the engine's build (and so its CI) really uses, so an engine upgrade
 * cannot leave the plugin bundling other versions than the ones tested.
 */
class BundledLibrariesTest {
    private static final List<String> SHARED_WITH_CORE = List.of("commons-compress", "commons-io", "commons-codec", "commons-lang3");

    @Test
    void thePluginBundlesTheVersionsTheEngineIsTestedWith() throws Exception {
        // The versions Maven resolved for the engine: the jars on this test run's class path.
        List<String> jars = Stream.of(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .map(e -> Path.of(e).getFileName().toString()).toList();
        String pom = Files.readString(Path.of("..", "plugin", "pom.xml"));
        List<String> checked = new ArrayList<>();
        for (String artifact : SHARED_WITH_CORE) {
            String jar = jars.stream().filter(j -> j.matches(Pattern.quote(artifact) + "-[0-9][^-]*\\.jar")).findFirst()
                    .orElseThrow(() -> new AssertionError(artifact + " is not among the engine's libraries " + jars));
            String engineVersion = jar.substring(artifact.length() + 1, jar.length() - ".jar".length());
            Matcher m = Pattern.compile("<artifactId>" + Pattern.quote(artifact) + "</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
            assertTrue(m.find(), "plugin/pom.xml pins no version of " + artifact);
            assertEquals(engineVersion, m.group(1), artifact + ": the plugin must bundle the version the engine is tested with");
            assertTrue(pom.contains(maskedPackage(artifact)), "plugin/pom.xml masks core's " + artifact);
            checked.add(artifact + " " + engineVersion);
        }
        assertEquals(SHARED_WITH_CORE.size(), checked.size());
    }

    private static String maskedPackage(String artifact) {
        return "org.apache.commons." + artifact.substring("commons-".length()) + ".";
    }
}
