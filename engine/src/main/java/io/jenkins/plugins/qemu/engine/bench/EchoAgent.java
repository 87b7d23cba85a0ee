package io.jenkins.plugins.qemu.engine.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * The agent the benchmark's agent workload runs in the guest, standing in for Jenkins'
 * remoting.jar (which is not at hand without the Jenkins repository): a JVM that answers on its
 * standard output every line it reads on its standard input, until end-of-file. The benchmark
 * packs this one class into a jar ({@link AgentWorkload#writeJar}); it must not use any other
 * class of the engine.
 */
public final class EchoAgent {
    private EchoAgent() {}

    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            System.out.println(line);
            System.out.flush();
        }
    }
}
