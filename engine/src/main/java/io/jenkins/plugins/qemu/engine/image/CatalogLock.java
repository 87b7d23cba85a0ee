package io.jenkins.plugins.qemu.engine.image;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * Exclusive right to change one catalog name, across processes: an OS file lock on
 * {@code <catalog>/.locks/<name>.lock}. The lock files stay (deleting one while another process
 * waits on it would let two holders in). Locks are polled with {@code tryLock}, because within
 * one JVM a second {@code lock()} on the same file throws rather than waits.
 */
final class CatalogLock implements AutoCloseable {
    static final String LOCKS = ".locks";
    private static final Duration POLL = Duration.ofMillis(200);

    private final FileChannel channel;
    private final FileLock lock;

    private CatalogLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static CatalogLock acquire(Path root, String name, Consumer<String> progress) throws IOException {
        Path dir = Files.createDirectories(root.resolve(LOCKS));
        Path file = dir.resolve(name + ".lock");
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        boolean told = false;
        try {
            while (true) {
                FileLock l = tryLock(ch);
                if (l != null) {
                    return new CatalogLock(ch, l);
                }
                if (!told) {
                    progress.accept(name + ": waiting for another process or thread working on this image");
                    told = true;
                }
                Thread.sleep(POLL.toMillis());
            }
        } catch (InterruptedException e) {
            ch.close();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the lock on image '" + name + "'");
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static FileLock tryLock(FileChannel ch) throws IOException {
        try {
            return ch.tryLock();
        } catch (OverlappingFileLockException heldInThisJvm) {
            return null;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
