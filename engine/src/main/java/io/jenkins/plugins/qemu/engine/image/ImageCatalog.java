package io.jenkins.plugins.qemu.engine.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.config.Validation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The images directory: one sub-directory per image holding its disk and a {@code manifest.json}.
 * Resolving a name never leaves the directory: the name is validated first, and every file the
 * manifest names is resolved and checked to stay inside the image's own folder, symbolic links
 * included, so a hostile manifest cannot point QEMU at an arbitrary host file.
 */
public final class ImageCatalog {
    public static final String MANIFEST = "manifest.json";

    private final Path root;
    private final ObjectMapper json = new ObjectMapper();

    public ImageCatalog(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    /** Names of the images that have a manifest, sorted. */
    public List<String> names() throws IOException {
        List<String> names = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return names;
        }
        try (Stream<Path> s = Files.list(root)) {
            // Pulls and builds stage whole folders under hidden names; only valid names are images.
            s.filter(p -> isImageName(p.getFileName().toString()) && Files.isRegularFile(p.resolve(MANIFEST)))
                    .map(p -> p.getFileName().toString())
                    .sorted()
                    .forEach(names::add);
        }
        return names;
    }

    /** The folder an image of this name has (or would have); the name is validated first. */
    public Path imageDir(String name) {
        return root.resolve(Validation.imageName("image", name));
    }

    /** The validated manifest of an installed image. */
    public ImageManifest manifest(String name) throws IOException {
        Path file = imageDir(name).resolve(MANIFEST);
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException("image", name, "is not in the image catalog " + root + " (no " + file + ")");
        }
        return ImageManifest.read(file).validate(name);
    }

    static boolean isImageName(String name) {
        try {
            Validation.imageName("image", name);
            return true;
        } catch (InvalidInputException e) {
            return false;
        }
    }

    public BaseImage resolve(String name) throws IOException {
        Validation.imageName("image", name);
        Path dir = root.resolve(name).normalize();
        Path manifestFile = dir.resolve(MANIFEST);
        JsonNode m;
        try {
            m = json.readTree(Files.readAllBytes(manifestFile));
        } catch (NoSuchFileException e) {
            throw new InvalidInputException("image", name, "is not in the image catalog " + root + " (no " + manifestFile + ")");
        } catch (IOException e) {
            throw new IOException("image '" + name + "': cannot read " + manifestFile + ": " + e.getMessage(), e);
        }
        Path realDir = dir.toRealPath();
        if (!realDir.startsWith(root.toRealPath())) {
            throw new InvalidInputException("image", name, "resolves outside the image catalog " + root);
        }
        String format = text(m, "format", "qcow2");
        if (!format.equals("qcow2") && !format.equals("raw")) {
            throw new InvalidInputException("image '" + name + "' manifest format", format, "must be qcow2 or raw");
        }
        Path disk = member(realDir, name, "disk", text(m, "disk", "disk.qcow2"));
        if (!Files.isRegularFile(disk)) {
            throw new InvalidInputException("image", name, "has no disk file " + disk);
        }
        String kernel = text(m, "kernel", null);
        String initrd = text(m, "initrd", null);
        // What a snapshot boot found out overrides what the manifest declares.
        ImageProbe probe = ImageProbe.read(realDir);
        // Only with a kernel can we add the command-line switch the fast path needs.
        boolean fastPath = kernel != null && (GuestProtocol.FW_CFG_IDENTITY.equals(text(m, "fastPath", null))
                || probe != null && Boolean.TRUE.equals(probe.fastPathUnit()));
        boolean cloudInit = (!m.has("cloudInit") || m.get("cloudInit").asBoolean(true)) && (probe == null || !probe.cloudInitAbsent());
        return new BaseImage(
                name,
                disk,
                format,
                kernel == null ? null : member(realDir, name, "kernel", kernel),
                initrd == null ? null : member(realDir, name, "initrd", initrd),
                Validation.kernelAppend("image '" + name + "' manifest append", text(m, "append", null)),
                text(m, "defaultUser", null),
                cloudInit,
                fastPath,
                // Unknown (0) sends a disk-size check to qemu-img instead of trusting a bad value.
                Math.max(0, m.path("virtualSize").asLong(0)),
                fastPath && GuestProtocol.CLONE_IDENTITY.equals(text(m, "warmStart", null)),
                // Only found out, never declared: the boot would time out on an image that cannot.
                kernel != null && !fastPath && probe != null && probe.takesSystemdCredentials());
    }

    /** Records what a snapshot boot of image {@code name} found out (see {@link ImageProbe}). */
    public void recordProbe(String name, ImageProbe probe) throws IOException {
        Validation.imageName("image", name);
        probe.write(imageDir(name));
    }

    private static String text(JsonNode m, String field, String fallback) {
        JsonNode n = m.get(field);
        return n == null || n.isNull() ? fallback : n.asText();
    }

    private static Path member(Path realDir, String image, String field, String file) throws IOException {
        Path p = realDir.resolve(file).normalize();
        Path real = Files.exists(p) ? p.toRealPath() : p;
        if (!real.startsWith(realDir) || real.equals(realDir)) {
            throw new InvalidInputException("image '" + image + "' manifest " + field, file, "points outside the image's directory " + realDir);
        }
        return real;
    }
}
