package io.jenkins.plugins.qemu.engine.cli;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.config.Validation;
import io.jenkins.plugins.qemu.engine.image.Downloader;
import io.jenkins.plugins.qemu.engine.image.ImageBuilder;
import io.jenkins.plugins.qemu.engine.image.BaseImage;
import io.jenkins.plugins.qemu.engine.image.ImageCatalog;
import io.jenkins.plugins.qemu.engine.image.ImageProbe;
import io.jenkins.plugins.qemu.engine.image.ImageManifest;
import io.jenkins.plugins.qemu.engine.image.ImagePuller;
import io.jenkins.plugins.qemu.engine.image.ImageRemover;
import io.jenkins.plugins.qemu.engine.image.ImageUsage;
import io.jenkins.plugins.qemu.engine.image.ImageVerifier;
import io.jenkins.plugins.qemu.engine.image.PullRequest;
import io.jenkins.plugins.qemu.engine.image.QemuImg;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code images list|pull|build|rm|verify}: manages the image catalog. Exit codes: 0 done,
 * 1 the operation failed (download, checksum, image refused, verification found a problem),
 * 2 bad usage or a refused request (unknown image, image in use, already present).
 */
final class ImagesCommand {
    static final int FAILED = 1;
    private static final Set<String> FLAGS = Set.of("--replace", "--no-cloud-init");

    private final Options options;
    private final PrintStream out;
    private final PrintStream err;

    ImagesCommand(Options options, PrintStream out, PrintStream err) {
        this.options = options;
        this.out = out;
        this.err = err;
    }

    /** The sub-command, its positional name (if any) and its {@code --option value} pairs. */
    record Options(String action, String name, Map<String, String> values) {
        static Options parse(List<String> args) {
            if (args.isEmpty()) {
                throw new InvalidInputException("images", "", "needs an action: list, pull, build, rm or verify");
            }
            String action = args.get(0);
            if (!List.of("list", "pull", "build", "rm", "verify").contains(action)) {
                throw new InvalidInputException("images action", action, "is not one of list, pull, build, rm, verify");
            }
            String name = null;
            Map<String, String> values = new HashMap<>();
            for (int i = 1; i < args.size(); i++) {
                String a = args.get(i);
                if (!a.startsWith("--")) {
                    if (name != null) {
                        throw new InvalidInputException("argument", a, "is not understood: 'images " + action + "' takes one image name");
                    }
                    name = a;
                } else if (FLAGS.contains(a)) {
                    values.put(a, "true");
                } else if (i + 1 < args.size()) {
                    values.put(a, args.get(++i));
                } else {
                    throw new InvalidInputException(a, null, "needs a value");
                }
            }
            boolean needsName = !action.equals("list") && !action.equals("verify");
            if (needsName && name == null) {
                throw new InvalidInputException("image", null, "is required: 'images " + action + " NAME'");
            }
            if (action.equals("list") && name != null) {
                throw new InvalidInputException("argument", name, "is not understood: 'images list' takes no name");
            }
            Options o = new Options(action, name == null ? null : Validation.imageName("image", name), values);
            o.checkKnown();
            return o;
        }

        private void checkKnown() {
            List<String> allowed = new ArrayList<>(List.of("--images-dir"));
            switch (action) {
                case "pull":
                    allowed.addAll(List.of("--url", "--sha256", "--sha256sums", "--format", "--kernel-url", "--kernel-sha256",
                            "--initrd-url", "--initrd-sha256", "--append", "--default-user", "--no-cloud-init",
                            "--min-memory", "--replace", "--state-dir"));
                    break;
                case "rm": allowed.add("--state-dir"); break;
                case "build": allowed.add("--timeout"); break;
                default: break;
            }
            for (String k : values.keySet()) {
                if (!allowed.contains(k)) {
                    throw new InvalidInputException("option", k, "is not a known option of 'images " + action + "'");
                }
            }
        }

        PullRequest pullRequest() {
            PullRequest.Builder b = PullRequest.builder().name(name)
                    .url(url("--url", values.get("--url")))
                    .sha256(values.get("--sha256"))
                    .sha256Sums(url("--sha256sums", values.get("--sha256sums")))
                    .kernel(url("--kernel-url", values.get("--kernel-url")), values.get("--kernel-sha256"))
                    .initrd(url("--initrd-url", values.get("--initrd-url")), values.get("--initrd-sha256"))
                    .append(values.get("--append"))
                    .defaultUser(values.get("--default-user"))
                    .cloudInit(!values.containsKey("--no-cloud-init"))
                    .replace(values.containsKey("--replace"));
            if (values.containsKey("--format")) {
                b.format(values.get("--format"));
            }
            if (values.containsKey("--min-memory")) {
                b.minMemoryMiB(Validation.memoryMiB("--min-memory", values.get("--min-memory")));
            }
            return b.build();
        }

        /** A URL, or an absolute path taken as a file:// URL. */
        static URI url(String field, String v) {
            if (v == null) {
                return null;
            }
            try {
                return v.startsWith("/") ? Path.of(v).toUri() : new URI(v);
            } catch (java.net.URISyntaxException | IllegalArgumentException e) {
                throw new InvalidInputException(field, v, "is not a valid URL");
            }
        }

        EngineConfig config() {
            String images = values.get("--images-dir");
            EngineConfig c = EngineConfig.defaults(images == null ? null : Path.of(images), "cli-" + ProcessHandle.current().pid());
            String state = values.get("--state-dir");
            return state == null ? c : c.withStateDir(Path.of(state));
        }
    }

    /** Entry from {@link Main}: parses, runs, and answers bad usage with the usage text. */
    static int run(List<String> args, PrintStream out, PrintStream err) {
        if (args.isEmpty()) {
            err.println(usage());
            return Main.USAGE;
        }
        Options options;
        try {
            options = Options.parse(args);
        } catch (InvalidInputException e) {
            err.println("qemu-agents: " + e.getMessage() + "\n" + usage());
            return Main.USAGE;
        }
        return new ImagesCommand(options, out, err).call();
    }

    int call() {
        EngineConfig config = options.config();
        ImageCatalog catalog = new ImageCatalog(config.imagesDir());
        QemuImg qemuImg = new QemuImg(config.qemuImgBinary());
        ImageUsage usage = new ImageUsage(List.of(config.stateDir()));
        try {
            switch (options.action()) {
                case "list": return list(catalog);
                case "pull": return pull(catalog, qemuImg, usage);
                case "build": return build(catalog);
                case "rm":
                    new ImageRemover(catalog, usage).remove(options.name(), err::println);
                    return 0;
                default: return verify(catalog, qemuImg);
            }
        } catch (InvalidInputException e) {
            err.println("qemu-agents: " + e.getMessage());
            return Main.USAGE;
        } catch (IOException e) {
            err.println("qemu-agents: " + e.getMessage());
            return FAILED;
        }
    }

    private int pull(ImageCatalog catalog, QemuImg qemuImg, ImageUsage usage) throws IOException {
        PullRequest req = options.pullRequest();
        try (ImagePuller puller = new ImagePuller(catalog, qemuImg, usage, new Downloader())) {
            ImageManifest m = puller.pull(req, err::println);
            out.println(m.name() + " " + m.format() + " sha256:" + m.sha256());
            return 0;
        }
    }

    private int build(ImageCatalog catalog) throws IOException {
        String t = options.values().get("--timeout");
        Duration timeout = t == null ? Duration.ofHours(2) : Validation.duration("--timeout", t);
        ImageManifest m = new ImageBuilder(catalog, timeout).build(options.name(), err::println);
        out.println(m.name() + " " + m.format() + " sha256:" + m.sha256());
        return 0;
    }

    private int verify(ImageCatalog catalog, QemuImg qemuImg) throws IOException {
        ImageVerifier verifier = new ImageVerifier(catalog, qemuImg);
        List<ImageVerifier.Result> results = options.name() == null
                ? verifier.verifyAll(err::println)
                : List.of(verifier.verify(options.name(), err::println));
        if (results.isEmpty()) {
            err.println("no images in " + catalog.root());
        }
        int failed = 0;
        for (ImageVerifier.Result r : results) {
            out.println(r.name() + ": " + (r.ok() ? "ok" : "FAILED: " + r.problem()));
            failed += r.ok() ? 0 : 1;
        }
        return failed == 0 ? 0 : FAILED;
    }

    private int list(ImageCatalog catalog) throws IOException {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAME", "FORMAT", "VIRTUAL", "ON DISK", "KERNEL", "CLOUD-INIT", "FAST PATH", "WARM START", "ADDED", "ORIGIN"});
        for (String name : catalog.names()) {
            try {
                ImageManifest m = catalog.manifest(name);
                Path disk = catalog.imageDir(name).resolve(m.disk());
                BaseImage image = catalog.resolve(name);
                ImageProbe probe = ImageProbe.read(catalog.imageDir(name));
                rows.add(new String[] {name, m.format(), m.virtualSize() == null ? "?" : size(m.virtualSize()),
                        Files.isRegularFile(disk) ? size(Files.size(disk)) : "missing", m.kernelBoot() ? "yes" : "no",
                        cloudInit(image, probe), image.fastPath() ? "yes" : image.systemdCredentials() ? "systemd credentials" : "no",
                        warmStart(image, probe),
                        m.addedAt() == null ? "-" : m.addedAt(), m.origin() == null ? "-" : m.origin()});
            } catch (IOException | RuntimeException e) {
                rows.add(new String[] {name, "?", "?", "?", "?", "?", "?", "?", "?", "invalid manifest: " + e.getMessage()});
            }
        }
        out.print(table(rows));
        return 0;
    }

    /** Found out by a snapshot boot where one happened, else what the manifest declares. */
    private static String cloudInit(BaseImage image, ImageProbe probe) {
        if (probe != null && probe.cloudInit() != null) {
            return probe.cloudInitAbsent() ? "absent" : probe.cloudInit().replaceFirst("^.*cloud-init\\S* ", "");
        }
        return image.cloudInit() ? "declared" : "no";
    }

    private static String warmStart(BaseImage image, ImageProbe probe) {
        if (probe != null && probe.warmStart() != null) {
            String v = probe.warmStart();
            return v.length() > 40 ? v.substring(0, 39) + "\u2026" : v;
        }
        if (image.warmStart()) {
            return "declared (image service)";
        }
        if (image.kernel() == null) {
            return "no (firmware boot)";
        }
        return image.cloudInit() ? "untested (via cloud-init)" : "no (no cloud-init)";
    }

    static String table(List<String[]> rows) {
        int[] width = new int[rows.get(0).length];
        for (String[] r : rows) {
            for (int i = 0; i < r.length - 1; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        StringBuilder b = new StringBuilder();
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                b.append(i == r.length - 1 ? r[i] : String.format(Locale.ROOT, "%-" + width[i] + "s  ", r[i]));
            }
            b.append('\n');
        }
        return b.toString();
    }

    static String size(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
        }
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
    }

    static String usage() {
        return String.join("\n",
                "usage: qemu-agents images list [--images-dir DIR]",
                "       qemu-agents images pull NAME --url URL (--sha256 HEX | --sha256sums URL) [--format auto|qcow2|raw]",
                "                   [--kernel-url URL [--kernel-sha256 HEX]] [--initrd-url URL [--initrd-sha256 HEX]]",
                "                   [--append CMDLINE] [--default-user NAME] [--no-cloud-init] [--min-memory SIZE]",
                "                   [--replace] [--images-dir DIR] [--state-dir DIR]",
                "       qemu-agents images build NAME [--timeout DUR] [--images-dir DIR]     (NAME: "
                        + String.join(", ", ImageBuilder.BUILDERS) + ")",
                "       qemu-agents images rm NAME [--images-dir DIR] [--state-dir DIR]",
                "       qemu-agents images verify [NAME] [--images-dir DIR]",
                "  pull downloads (http, https, file), checks the SHA-256 of the downloaded file, unpacks",
                "  .gz/.bz2/.xz/.zst, refuses anything that is not a self-contained qcow2 or raw disk, and",
                "  installs it atomically. rm refuses an image a VM still uses.");
    }
}
