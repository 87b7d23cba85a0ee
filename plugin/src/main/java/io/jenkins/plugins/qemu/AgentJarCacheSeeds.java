package io.jenkins.plugins.qemu;

import hudson.remoting.Which;
import io.jenkins.plugins.qemu.engine.vm.CachedJar;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;
import jenkins.model.Jenkins;

/**
 * The controller's jars a warm snapshot puts into the agent's jar cache ({@link CachedJar}): the
 * ones every agent connection and a pipeline's {@code sh} step fetched over the channel, found
 * by one class of each. Measured in a real Jenkins 2.479.3, the jar cache of a warm clone's agent
 * after {@code node { sh }} held exactly these 13 jars, 19.9 MB, which it had fetched for 25 s
 * of its 26 s connection under TCG. A class that is not there (a plugin not installed, a library
 * a later core no longer has) is skipped; a jar the agent needs and the cache lacks is fetched
 * as before.
 */
final class AgentJarCacheSeeds {
    private static final Logger LOGGER = Logger.getLogger(AgentJarCacheSeeds.class.getName());
    private static final List<String> ONE_CLASS_OF_EACH = List.of(
            "jenkins.model.Jenkins",
            "org.kohsuke.stapler.Stapler",
            "org.apache.commons.io.IOUtils",
            "com.sun.jna.Native",
            "org.springframework.core.SpringVersion",
            "org.springframework.security.core.Authentication",
            "org.apache.tools.ant.Project",
            "org.apache.commons.lang.StringUtils",
            "org.jvnet.localizer.Localizable",
            "org.jvnet.hudson.MemoryMonitor",
            "org.apache.commons.fileupload2.core.FileItem",
            "org.jenkinsci.plugins.workflow.flow.FlowExecution",
            "org.jenkinsci.plugins.durabletask.DurableTask");

    private AgentJarCacheSeeds() {}

    /** The jars, hashed now (about 20 MB: once per controller start, see QemuEngines). */
    static List<CachedJar> find() {
        ClassLoader loader = Jenkins.get().getPluginManager().uberClassLoader;
        Set<Path> files = new LinkedHashSet<>();
        for (String name : ONE_CLASS_OF_EACH) {
            try {
                files.add(Which.jarFile(Class.forName(name, false, loader)).toPath());
            } catch (ClassNotFoundException | LinkageError | IOException | IllegalArgumentException e) {
                LOGGER.log(Level.FINE, "no jar for the agent's jar cache from " + name, e);
            }
        }
        List<CachedJar> jars = new ArrayList<>();
        for (Path file : files) {
            try {
                jars.add(CachedJar.of(file));
            } catch (IOException e) {
                LOGGER.log(Level.WARNING, "cannot read " + file + " for the agent's jar cache; agents fetch it over their channel", e);
            }
        }
        return List.copyOf(jars);
    }
}
