package io.jenkins.plugins.qemu.engine.image;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.config.Validation;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The {@code manifest.json} of one catalog image, in the shape {@code images/build-debian-12.sh}
 * writes: the disk and its format, optional kernel/initrd/append for direct kernel boot, the
 * image's default user, whether it runs cloud-init, minimum memory, when it was added. Pulled
 * images also record where they came from: {@code origin} (the URL) and {@code originSha256}
 * (the SHA-256 of the downloaded, possibly compressed file, as published). {@code sha256} is
 * always the hash of the installed disk file itself, so {@code images verify} can re-check it
 * without the download.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record ImageManifest(
        String name,
        String format,
        String disk,
        String kernel,
        String initrd,
        String append,
        String defaultUser,
        Boolean cloudInit,
        Long minMemoryMiB,
        String sha256,
        Long virtualSize,
        String kernelVersion,
        String origin,
        String originSha256,
        String addedAt) {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Whether the image runs cloud-init; a manifest that does not say is assumed to (as the builder's do). */
    public boolean runsCloudInit() {
        return cloudInit == null || cloudInit;
    }

    public boolean kernelBoot() {
        return kernel != null;
    }

    /**
     * Checks every field for the image folder named {@code folder}; throws naming the field and
     * the value. File members must be plain names, so they cannot leave the image's folder.
     */
    public ImageManifest validate(String folder) {
        String f = "image '" + folder + "' manifest ";
        Validation.imageName(f + "name", name);
        if (!name.equals(folder)) {
            throw new InvalidInputException(f + "name", name, "differs from the image's folder name '" + folder + "'");
        }
        if (!"qcow2".equals(format) && !"raw".equals(format)) {
            throw new InvalidInputException(f + "format", format, "must be qcow2 or raw");
        }
        fileName(f + "disk", Validation.required(f + "disk", disk));
        fileName(f + "kernel", kernel);
        fileName(f + "initrd", initrd);
        if (initrd != null && kernel == null) {
            throw new InvalidInputException(f + "initrd", initrd, "is given without a kernel");
        }
        Validation.kernelAppend(f + "append", append);
        if (defaultUser != null && !defaultUser.equals("root")) {
            Validation.userName(f + "defaultUser", defaultUser);
        }
        if (minMemoryMiB != null) {
            Validation.memoryMiB(f + "minMemoryMiB", minMemoryMiB);
        }
        if (sha256 != null) {
            Sha256.requireHex(f + "sha256", sha256);
        }
        if (originSha256 != null) {
            Sha256.requireHex(f + "originSha256", originSha256);
        }
        if (virtualSize != null && virtualSize <= 0) {
            throw new InvalidInputException(f + "virtualSize", virtualSize, "must be positive");
        }
        return this;
    }

    private static void fileName(String field, String file) {
        if (file != null && (file.isEmpty() || file.contains("/") || file.startsWith(".") || file.indexOf('\0') >= 0)) {
            throw new InvalidInputException(field, file, "must be a plain file name inside the image's folder (no '/', not starting with '.')");
        }
    }

    public static ImageManifest read(Path file) throws IOException {
        try {
            return JSON.readValue(Files.readAllBytes(file), ImageManifest.class);
        } catch (JsonProcessingException e) {
            throw new IOException(file + " is not a valid image manifest: " + e.getOriginalMessage(), e);
        }
    }

    public void write(Path file) throws IOException {
        Files.write(file, toJson().getBytes(StandardCharsets.UTF_8));
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a manifest record always serialises", e);
        }
    }
}
