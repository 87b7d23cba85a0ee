package io.jenkins.plugins.qemu.engine.vm;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.attribute.FileTime;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/**
 * A jar of one class of the engine, with that class as its Main-Class, for a JVM in the guest
 * (the benchmark's echo agent, the warm snapshot's agent bootstrap). Its entries carry a fixed
 * time stamp, so the same class gives the same bytes every time: the jar's hash names it in the
 * guest and keys the snapshot, which must not go stale on every run.
 */
public final class ClassJar {
    private static final FileTime FIXED = FileTime.fromMillis(946684800000L);

    private ClassJar() {}

    /** The jar's bytes; {@code main} must be a class that uses no other class of the engine. */
    public static byte[] of(Class<?> main) throws IOException {
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().put(Attributes.Name.MAIN_CLASS, main.getName());
        String entry = main.getName().replace('.', '/') + ".class";
        try (InputStream cls = main.getResourceAsStream("/" + entry)) {
            if (cls == null) {
                throw new IOException("the engine jar lacks " + entry);
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (JarOutputStream out = new JarOutputStream(bytes)) {
                JarEntry manifest = new JarEntry("META-INF/MANIFEST.MF");
                manifest.setLastModifiedTime(FIXED);
                out.putNextEntry(manifest);
                m.write(out);
                out.closeEntry();
                JarEntry e = new JarEntry(entry);
                e.setLastModifiedTime(FIXED);
                out.putNextEntry(e);
                cls.transferTo(out);
                out.closeEntry();
            }
            return bytes.toByteArray();
        }
    }
}
