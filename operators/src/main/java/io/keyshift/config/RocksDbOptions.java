package io.keyshift.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.MemorySize;

/**
 * The option of keyshift's RocksDB options factory ({@link io.keyshift.state.BoundedManifestRocksDBOptionsFactory}).
 * It lives here, apart from the factory, so that checking {@code keyshift.*} options never loads a RocksDB class: a
 * job that runs on the heap state backend (an IDE run with Flink's streaming and client jars only) has none.
 */
public final class RocksDbOptions {
    private RocksDbOptions() {}

    /** Bound on one RocksDB instance's MANIFEST file before RocksDB starts a new one (at least 1 KiB). */
    public static final ConfigOption<MemorySize> MAX_MANIFEST_FILE_SIZE =
            ConfigOptions.key("keyshift.rocksdb.max-manifest-file-size")
                    .memoryType()
                    .defaultValue(MemorySize.parse("16kb"))
                    .withDescription("Size (>= 1kb) beyond which a RocksDB instance starts a new MANIFEST file "
                            + "(RocksDB's max_manifest_file_size, default 1 GiB there). Incremental checkpoints "
                            + "upload the MANIFEST every time, so a small bound keeps the checkpointed size flat. "
                            + "Read by io.keyshift.state.BoundedManifestRocksDBOptionsFactory.");
}
