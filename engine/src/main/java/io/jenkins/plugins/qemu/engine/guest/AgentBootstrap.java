package io.jenkins.plugins.qemu.engine.guest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * The agent JVM a warm snapshot carries, started before the guest is saved, so a restored clone's
 * agent is already past the JVM's start and its jar's class loading: it loads the agent jar's
 * classes, listens on one port of the guest's loopback, writes its ready file and waits. The
 * launcher connects through SSH port forwarding on the VM's pinned-key session, is greeted with
 * this agent's key, sends the key back with the agent's arguments in one line, and its
 * connection becomes the agent's standard input and output, which is what a stdio agent (Jenkins' remoting) speaks
 * on; the agent's main method then runs as {@code java -jar} would run it. The first connection
 * that sends the key claims it; after that nothing listens, and the JVM exits when the agent's
 * main returns. Runs in the guest's JVM: it must use no
 * other class of the engine.
 */
public final class AgentBootstrap {
    /** The first line on a connection, followed by the key; anything else answering there is not us. */
    public static final String GREETING = "qemu-agents-agent";
    /** Separates the agent's arguments in the launcher's line; never part of an argument. */
    public static final char SEPARATOR = '\t';
    /** How long a connection may take to claim the agent before the next one may try. */
    private static final int CLAIM_TIMEOUT_MS = 10_000;

    private AgentBootstrap() {}

    /** Arguments: the loopback port, this agent's key, the agent jar's path, the ready file's path. */
    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: AgentBootstrap PORT KEY AGENT_JAR READY_FILE");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        String key = args[1];
        Path jar = Path.of(args[2]);
        Path ready = Path.of(args[3]);
        Method main = preload(jar);
        Socket socket;
        String[] agentArgs;
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
            rehearse(server, key, ready);
            Files.writeString(ready, key + "\n");
            while (true) {
                socket = server.accept();
                agentArgs = claim(socket, key);
                if (agentArgs != null) {
                    break;
                }
                socket.close();
            }
        }
        // No second agent: the file that says one is waiting goes with the only claim.
        Files.deleteIfExists(ready);
        InputStream in = socket.getInputStream();
        OutputStream out = socket.getOutputStream();
        System.setIn(in);
        System.setOut(new PrintStream(out, false));
        try {
            main.invoke(null, (Object) agentArgs);
        } catch (java.lang.reflect.InvocationTargetException e) {
            e.getCause().printStackTrace();
            System.exit(1);
        }
        System.out.flush();
        System.exit(0);
    }

    /**
     * One claim with a wrong key from this JVM itself, before the snapshot: the first run of the
     * claim's code (the socket classes, the first string concatenation's bootstrap, splitting,
     * file deletion) took 0.6-0.7 s of a clone's launch under TCG, measured; run once here, it is
     * linked and resolved in every clone.
     */
    private static void rehearse(ServerSocket server, String key, Path ready) throws IOException {
        try (Socket self = new Socket(server.getInetAddress(), server.getLocalPort())) {
            self.getOutputStream().write(("rehearsal" + SEPARATOR + "x\n").getBytes(StandardCharsets.UTF_8));
            try (Socket accepted = server.accept()) {
                if (claim(accepted, key) != null) {
                    throw new IllegalStateException("the rehearsal claimed the agent");
                }
            }
            readLine(self.getInputStream());
        }
        // The steps after a claim: the listener closed, the ready file deleted, the agent's
        // streams made and its main called through reflection (here a method that does nothing).
        try (ServerSocket other = new ServerSocket()) {
            other.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
        }
        Path file = Files.createTempFile(ready.getParent(), "rehearsal", ".tmp");
        Files.deleteIfExists(file);
        new PrintStream(OutputStream.nullOutputStream(), false).flush();
        try {
            AgentBootstrap.class.getDeclaredMethod("rehearsedMain", String[].class).invoke(null, (Object) new String[0]);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void rehearsedMain(String[] args) {
        // Called once through reflection, as the agent's main is called after the claim.
    }

    /**
     * Greets with the key and reads the launcher's line: the key again, then the agent's
     * arguments. Null unless the key matches: a launcher for other options, or any other program
     * of the guest that connects, silent or not, leaves the agent waiting for its own launcher.
     */
    private static String[] claim(Socket socket, String key) {
        try {
            socket.setSoTimeout(CLAIM_TIMEOUT_MS);
            OutputStream out = socket.getOutputStream();
            out.write((GREETING + " " + key + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            String[] fields = readLine(socket.getInputStream()).split(String.valueOf(SEPARATOR), -1);
            if (!fields[0].equals(key)) {
                return null;
            }
            socket.setSoTimeout(0);
            return java.util.Arrays.copyOfRange(fields, 1, fields.length);
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Loads every class of the jar without initialising any, so no static state (a random seed,
     * a host name) is fixed before the snapshot and shared by every clone; a class that cannot
     * load (an optional dependency missing) is skipped, as the agent itself would never load it.
     */
    private static Method preload(Path jar) throws IOException, ReflectiveOperationException {
        ClassLoader loader = AgentBootstrap.class.getClassLoader();
        String mainClass;
        try (JarFile file = new JarFile(jar.toFile())) {
            mainClass = file.getManifest().getMainAttributes().getValue("Main-Class");
            if (mainClass == null) {
                throw new IOException(jar + " names no Main-Class");
            }
            for (Enumeration<JarEntry> e = file.entries(); e.hasMoreElements(); ) {
                String name = e.nextElement().getName();
                if (name.endsWith(".class") && !name.startsWith("META-INF/") && !name.endsWith("module-info.class")) {
                    try {
                        Class.forName(name.substring(0, name.length() - 6).replace('/', '.'), false, loader);
                    } catch (ClassNotFoundException | LinkageError skipped) {
                        // See above: the agent never needs what it cannot load.
                    }
                }
            }
        }
        return Class.forName(mainClass, false, loader).getMethod("main", String[].class);
    }

    /** One line, byte by byte: nothing after it may be read ahead, it is the agent's. */
    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b; (b = in.read()) != '\n'; ) {
            if (b < 0) {
                throw new IOException("the launcher closed the connection before sending the agent's arguments");
            }
            line.write(b);
        }
        return line.toString(StandardCharsets.UTF_8);
    }
}
