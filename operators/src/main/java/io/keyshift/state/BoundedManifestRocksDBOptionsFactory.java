package io.keyshift.state;

import java.util.Collection;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.state.rocksdb.ConfigurableRocksDBOptionsFactory;
import org.apache.flink.state.rocksdb.RocksDBOptionsFactory;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;

/**
 * A RocksDB options factory ({@code state.backend.rocksdb.options-factory}) that bounds each RocksDB instance's
 * MANIFEST file, so that the checkpointed size of keyed state stays flat in a long run with frequent incremental
 * checkpoints.
 *
 * <p>Every incremental checkpoint flushes the memtables, and every flush or compaction appends a version edit to the
 * MANIFEST. RocksDB starts a new MANIFEST (holding one snapshot of the live file set, a few hundred bytes for
 * keyshift's small stages) only once the current one exceeds {@code max_manifest_file_size}, whose RocksDB default
 * is 1 GiB. The MANIFEST is uploaded as private state with every incremental checkpoint, so at Flink's defaults a
 * keyed operator's checkpointed size grows by the MANIFEST's growth for the life of the job: in a 30-minute soak
 * (checkpoints every 5 s, 4 subtasks) the window operator's checkpoint grew from 260 KB to 970 KB while its SST
 * files and its canonical savepoint stayed flat, each subtask's MANIFEST about 6 KB a minute. With the bound,
 * the private part of each instance's checkpoint stays below it.
 *
 * <p>Option: {@link #MAX_MANIFEST_FILE_SIZE}. Any other RocksDB option keeps Flink's value (predefined options and
 * {@code state.backend.rocksdb.*}); this factory changes nothing else. The class must be loadable by the job's
 * class loader (it is in keyshift-operators, so in every keyshift job jar).
 */
public final class BoundedManifestRocksDBOptionsFactory implements ConfigurableRocksDBOptionsFactory {
    private static final long serialVersionUID = 1L;

    /** Bound on one RocksDB instance's MANIFEST file: {@link io.keyshift.config.RocksDbOptions#MAX_MANIFEST_FILE_SIZE}. */
    public static final ConfigOption<MemorySize> MAX_MANIFEST_FILE_SIZE =
            io.keyshift.config.RocksDbOptions.MAX_MANIFEST_FILE_SIZE;

    private long maxManifestFileSize = MAX_MANIFEST_FILE_SIZE.defaultValue().getBytes();

    @Override
    public RocksDBOptionsFactory configure(ReadableConfig config) {
        long bytes = config.get(MAX_MANIFEST_FILE_SIZE).getBytes();
        if (bytes < 1024) {
            throw new IllegalArgumentException(MAX_MANIFEST_FILE_SIZE.key() + " must be at least 1kb, got " + bytes
                    + " bytes");
        }
        maxManifestFileSize = bytes;
        return this;
    }

    /** The bound this factory applies, in bytes. */
    public long maxManifestFileSize() {
        return maxManifestFileSize;
    }

    @Override
    public DBOptions createDBOptions(DBOptions currentOptions, Collection<AutoCloseable> handlesToClose) {
        return currentOptions.setMaxManifestFileSize(maxManifestFileSize);
    }

    @Override
    public ColumnFamilyOptions createColumnOptions(ColumnFamilyOptions currentOptions,
                                                   Collection<AutoCloseable> handlesToClose) {
        return currentOptions;
    }
}
