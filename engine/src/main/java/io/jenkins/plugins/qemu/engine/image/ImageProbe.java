package io.jenkins.plugins.qemu.engine.image;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;

/**
 * What the engine found out about an image by booting it, as opposed to what its manifest
 * declares: {@code probed.json} beside the manifest, written after each warm-snapshot build (the
 * one boot per template the engine makes for itself). {@code cloudInit} is the guest's
 * {@code cloud-init --version} or "absent"; {@code fastPathUnit} whether our fw_cfg unit is
 * installed; {@code warmStart} "ok (image service)", "ok (installed by cloud-init)" or
 * "failed: why". A pulled image thus learns what it supports from its first snapshot build, and
 * {@code images list} shows both.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record ImageProbe(String cloudInit, Boolean fastPathUnit, String warmStart, String checkedAt) {
    public static final String FILE = "probed.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The guest command whose output {@link #fromGuest} reads: two lines, no side effects. */
    public static final String GUEST_COMMAND = "cloud-init --version 2>&1 | head -n1 || true;"
            + " systemctl is-enabled qemu-agents-fastpath.service 2>/dev/null || echo absent";

    /** Reads {@link #GUEST_COMMAND}'s output; the warm-start verdict is added by the caller. */
    public static ImageProbe fromGuest(String output, Instant now) {
        String[] lines = output.strip().split("\n");
        String ci = lines.length > 0 ? lines[0].strip() : "";
        boolean hasCloudInit = ci.matches("(?i).*cloud-init[^ ]* \\d.*") || ci.matches("\\d+\\.\\d+.*");
        boolean unit = lines.length > 1 && lines[1].strip().equals("enabled");
        return new ImageProbe(hasCloudInit ? ci : "absent", unit, null, now.toString());
    }

    public ImageProbe withWarmStart(String verdict) {
        return new ImageProbe(cloudInit, fastPathUnit, verdict, checkedAt);
    }

    public boolean cloudInitAbsent() {
        return "absent".equals(cloudInit);
    }

    /** The image's last probe, or null if it was never booted for a snapshot (or the file is unreadable). */
    public static ImageProbe read(Path imageDir) {
        try {
            return JSON.readValue(Files.readAllBytes(imageDir.resolve(FILE)), ImageProbe.class);
        } catch (IOException e) {
            return null; // missing or unreadable: a probe is advice, the manifest still describes the image
        }
    }

    /** Replaces the image's probe atomically, so readers see the old file or the new one. */
    public void write(Path imageDir) throws IOException {
        Path tmp = Files.createTempFile(imageDir, ".probed-", ".json");
        try {
            Files.write(tmp, toJson().getBytes(StandardCharsets.UTF_8));
            Files.move(tmp, imageDir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    String toJson() {
        try {
            return JSON.writeValueAsString(this) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a probe record always serialises", e);
        }
    }
}
