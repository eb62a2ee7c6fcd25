package io.keyshift.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;

class BoundedManifestRocksDBOptionsFactoryTest {

    @Test
    void appliesTheConfiguredBoundAndRefusesATinyOne() {
        Configuration conf = new Configuration();
        conf.set(BoundedManifestRocksDBOptionsFactory.MAX_MANIFEST_FILE_SIZE, MemorySize.parse("32kb"));
        BoundedManifestRocksDBOptionsFactory factory = new BoundedManifestRocksDBOptionsFactory();
        factory.configure(conf);
        try (DBOptions options = new DBOptions()) {
            assertThat(factory.createDBOptions(options, new ArrayList<>()).maxManifestFileSize()).isEqualTo(32 * 1024);
        }
        conf.set(BoundedManifestRocksDBOptionsFactory.MAX_MANIFEST_FILE_SIZE, MemorySize.parse("100b"));
        assertThatThrownBy(() -> new BoundedManifestRocksDBOptionsFactory().configure(conf))
                .hasMessageContaining("keyshift.rocksdb.max-manifest-file-size");
    }

    /** What a checkpoint every few seconds does to RocksDB: a small write and a flush, many times. */
    @Test
    void keepsTheManifestBelowTheBoundWhereRocksDBsDefaultLetsItGrow(@TempDir Path dir) throws Exception {
        RocksDB.loadLibrary();
        long bounded = manifestBytesAfterFlushes(dir.resolve("bounded"), 16 * 1024, 600);
        long unbounded = manifestBytesAfterFlushes(dir.resolve("default"), -1, 600);
        assertThat(bounded).isLessThan(20 * 1024);
        assertThat(unbounded).isGreaterThan(2 * bounded);
    }

    private static long manifestBytesAfterFlushes(Path dir, long bound, int flushes) throws Exception {
        Files.createDirectories(dir);
        try (Options options = new Options().setCreateIfMissing(true)) {
            if (bound > 0) {
                Configuration conf = new Configuration();
                conf.set(BoundedManifestRocksDBOptionsFactory.MAX_MANIFEST_FILE_SIZE, MemorySize.parse(bound + "b"));
                BoundedManifestRocksDBOptionsFactory factory = new BoundedManifestRocksDBOptionsFactory();
                factory.configure(conf);
                options.setMaxManifestFileSize(factory.maxManifestFileSize());
            }
            try (RocksDB db = RocksDB.open(options, dir.toString()); FlushOptions flush = new FlushOptions()) {
                for (int i = 0; i < flushes; i++) {
                    db.put(("key-" + i).getBytes(), ("value-" + i).getBytes());
                    db.delete(("key-" + (i - 1)).getBytes());
                    db.flush(flush.setWaitForFlush(true));
                }
            }
        }
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> manifests = files.filter(f -> f.getFileName().toString().startsWith("MANIFEST-")).toList();
            long total = 0;
            for (Path m : manifests) {
                total += Files.size(m);
            }
            return total;
        }
    }
}
