package io.keyshift.examples;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.reader.TextLineInputFormat;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.io.IOException;
import java.io.StringReader;
import java.time.OffsetDateTime;
import java.util.List;

/**
 * One trip of the Bay Area bike share (a user's own record type: keyshift never asks for anything else). Flink POJO.
 * The input is the public 2014 trips file ({@code batrips.csv.gz}: trip_id, duration, start_date, start_station,
 * start_terminal, end_date, end_station, end_terminal, bike_id, subscription_type, zip_code).
 */
public class BikeTrip {
    public long tripId;
    /** Seconds. */
    public int duration;
    /** Start time, epoch ms: the event time. */
    public long start;
    public String startStation;
    public int startTerminal;
    public String endStation;
    public int endTerminal;

    public BikeTrip() {}

    /** Lines that are not trips (with the reason), so that a bad line is counted, never silently dropped. */
    public static final OutputTag<String> BAD_LINES = new OutputTag<>("bad-lines") {};

    /**
     * The trips of {@code csv} (gzipped or not) with event-time timestamps and watermarks. One reader (a gzipped file
     * is one split); the file is in start-time order. Lines that do not parse go to {@link #BAD_LINES}, which this
     * job prints to standard error ("bad line> reason: line").
     */
    public static SingleOutputStreamOperator<BikeTrip> read(StreamExecutionEnvironment env, String csv) {
        FileSource<String> source = FileSource.forRecordStreamFormat(new TextLineInputFormat(), new Path(csv)).build();
        DataStream<String> lines = env.fromSource(source, WatermarkStrategy.noWatermarks(), "bike trips")
                .uid("bike-trips-source")
                .setParallelism(1);
        SingleOutputStreamOperator<BikeTrip> parsed = lines.process(new ProcessFunction<String, BikeTrip>() {
                    @Override
                    public void processElement(String line, Context ctx, Collector<BikeTrip> out) {
                        if (line.startsWith("\"trip_id\"")) {
                            return;
                        }
                        try {
                            out.collect(parse(line));
                        } catch (RuntimeException | IOException e) {
                            ctx.output(BAD_LINES, e.getMessage() + ": " + line);
                        }
                    }
                })
                .uid("bike-trips-parse")
                .setParallelism(1);
        // the side output is the parser's (the operator returned below has none): its lines go to standard error
        parsed.getSideOutput(BAD_LINES).printToErr("bad line").uid("bike-trips-bad-lines").setParallelism(1);
        return parsed.assignTimestampsAndWatermarks(WatermarkStrategy.<BikeTrip>forMonotonousTimestamps()
                        .withTimestampAssigner((t, ts) -> t.start))
                .uid("bike-trips-watermarks")
                .setParallelism(1);
    }

    static BikeTrip parse(String line) throws IOException {
        List<CSVRecord> rows = CSVFormat.DEFAULT.parse(new StringReader(line)).getRecords();
        if (rows.size() != 1 || rows.get(0).size() < 8) {
            throw new IllegalArgumentException("not a trip line");
        }
        CSVRecord r = rows.get(0);
        BikeTrip t = new BikeTrip();
        t.tripId = Long.parseLong(r.get(0));
        t.duration = Integer.parseInt(r.get(1));
        t.start = OffsetDateTime.parse(r.get(2).replace(' ', 'T')).toInstant().toEpochMilli();
        t.startStation = r.get(3);
        t.startTerminal = Integer.parseInt(r.get(4));
        t.endStation = r.get(6);
        t.endTerminal = Integer.parseInt(r.get(7));
        return t;
    }
}
