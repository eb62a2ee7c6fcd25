package io.keyshift.control;

import io.keyshift.avro.RouteEntry;
import io.keyshift.avro.RoutingPlan;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ControlCommandTest {
    static {
        // plans are Avro records with nested schema classes: trusted as in a job (whatever ran before in this JVM)
        io.keyshift.config.AvroTrust.install();
    }

    private static final long MARCH = Instant.parse("2014-03-01T00:00:00Z").toEpochMilli();

    @Test
    void parsesEveryCommandAndItsTime() {
        ControlCommand pin = ControlCommand.parse("2014-03-01T00:00:00Z, pin, \"Market at 4th, north\"");
        assertThat(pin.at()).isEqualTo(MARCH);
        assertThat(pin.type()).isEqualTo(ControlCommand.Type.PIN);
        assertThat(pin.key()).isEqualTo("Market at 4th, north");
        assertThat(ControlCommand.parse("2014-02-28T16:00-08:00,freeze").at()).isEqualTo(MARCH);
        assertThat(ControlCommand.parse(MARCH + ",UNFREEZE").type()).isEqualTo(ControlCommand.Type.UNFREEZE);
        assertThat(ControlCommand.parse("2014-03-01T00:00:00Z,rollback,42").version()).isEqualTo(42);
        assertThat(ControlCommand.parse("  # a comment")).isNull();
        assertThat(ControlCommand.parse("")).isNull();
        ControlCommand revert = ControlCommand.parse(ControlCommand.revertLine(MARCH, "k", 7, 9, MARCH - 86_400_000L,
                "shadow in 9, primary in 7"));
        assertThat(revert.type()).isEqualTo(ControlCommand.Type.REVERT);
        assertThat(revert.keyGroup()).isEqualTo(7);
        assertThat(revert.ifAtKeyGroup()).isEqualTo(9);
        assertThat(revert.ifSince()).isEqualTo(MARCH - 86_400_000L);
        assertThat(revert.reason()).isEqualTo("shadow in 9, primary in 7");
        assertThat(ControlCommand.parse("2014-03-01T00:00:00Z,revert,k,7").ifAtKeyGroup()).isEqualTo(-1);
        // key groups in ASCII digits, as every number of a command (Integer.parseInt reads other scripts' digits)
        assertThatThrownBy(() -> ControlCommand.parse("2014-03-01T00:00:00Z,revert,k,\u0663"))
                .hasMessageContaining("revert: key group '\u0663' is not a number");
        assertThatThrownBy(() -> ControlCommand.parse("2014-03-01T00:00:00Z,revert,k,+3"))
                .hasMessageContaining("revert: key group '+3' is not a number");
        // a line an earlier build kept in a savepoint is read as that build read it
        assertThat(ControlCommand.parseKept("2014-03-01T00:00:00Z,revert,k,+3").keyGroup()).isEqualTo(3);
        assertThatThrownBy(() -> ControlCommand.parse("2014-03-01T00:00:00Z,revert,k,7,9"))
                .hasMessageContaining("revert needs");
        String line = ControlCommand.line(MARCH, ControlCommand.Type.UNPIN, "a \"quoted\", key");
        assertThat(ControlCommand.parse(line).key()).isEqualTo("a \"quoted\", key");
        // the empty-string key (a missing id, often the hottest key): quoted, it is a key; a revert of it, as the
        // validation's reverts write it, goes through; a missing field is still no key
        assertThat(ControlCommand.parse("2014-03-01T00:00:00Z,pin,\"\"").key()).isEmpty();
        ControlCommand emptyRevert = ControlCommand.parse(ControlCommand.revertLine(MARCH, "", 7, 9,
                MARCH - 86_400_000L, "shadow in 9, primary in 7"));
        assertThat(emptyRevert.key()).isEmpty();
        assertThat(emptyRevert.keyGroup()).isEqualTo(7);
        assertThatThrownBy(() -> ControlCommand.parse("2014-03-01T00:00:00Z,pin,"))
                .hasMessageContaining("pin needs one argument, the key");
        assertThatThrownBy(() -> ControlCommand.parse("2014-03-01T00:00:00Z,revert,,7"))
                .hasMessageContaining("revert needs");
        // under a key secret: the empty key's pin is pinned by its pseudonym; a pin missing its key stays malformed
        // (not a pin of the empty key)
        assertThat(ControlCommand.parse(ControlCommand.mapKey("2014-03-01T00:00:00Z,pin,\"\"", k -> "p(" + k + ")"))
                .key()).isEqualTo("p()");
        String missing = ControlCommand.mapKey("2014-03-01T00:00:00Z,pin,", k -> "p(" + k + ")");
        assertThatThrownBy(() -> ControlCommand.parse(missing)).hasMessageContaining("pin needs one argument, the key");
    }

    @Test
    void aMalformedLineIsRefusedWithItsReason() {
        assertThatThrownBy(() -> ControlCommand.parse("2014-03-01T00:00:00Z,teleport,x"))
                .hasMessageContaining("unknown command 'teleport'");
        assertThatThrownBy(() -> ControlCommand.parse("yesterday,freeze")).hasMessageContaining("time 'yesterday'");
        assertThatThrownBy(() -> ControlCommand.parse("2014-03-01T00:00:00Z,pin"))
                .hasMessageContaining("pin needs one argument");
        assertThatThrownBy(() -> ControlCommand.parse("2014-03-01T00:00:00Z,freeze,now"))
                .hasMessageContaining("freeze takes no argument");
        assertThatThrownBy(() -> ControlCommand.parse("2014-03-01T00:00:00Z,rollback,latest"))
                .hasMessageContaining("'latest' is not a whole number in decimal digits");
        assertThatThrownBy(() -> ControlCommand.parse("2014-03-01T00:00:00Z,pin,\"open"))
                .isInstanceOf(IllegalArgumentException.class);
        // a value of several lines that begins with a comment was taken as a comment whole, its commands dropped
        assertThatThrownBy(() -> ControlCommand.parse("# pin the busiest\n2014-03-01T00:00:00Z,pin,Market at 4th"))
                .hasMessageContaining("one command per line");
        assertThat(ControlCommand.parse("# a comment alone")).isNull();
        // a Kafka record in Latin-1 ("Caf\xE9") decodes to U+FFFD: it pinned a key no record has
        assertThatThrownBy(() -> ControlCommand.parse("now,pin," + new String(new byte[] {'C', 'a', 'f', (byte) 0xE9},
                java.nio.charset.StandardCharsets.UTF_8))).hasMessageContaining("not UTF-8");
        // ... but one an earlier build accepted and kept in state is restored (refused, it failed every restore)
        assertThat(ControlState.pendingCommand("2026-12-20T00:00:00Z,pin,Caf\uFFFD").key()).isEqualTo("Caf\uFFFD");
        // the lowest epoch millisecond is the sentinel of now: it was read as now
        assertThatThrownBy(() -> ControlCommand.parse(Long.MIN_VALUE + ",freeze"))
                .hasMessageContaining("beyond the range of event times");
        assertThatThrownBy(() -> ControlCommand.parse("freeze")).hasMessageContaining("AT,COMMAND");
        assertThatThrownBy(() -> ControlCommand.parse("2014-03-01T00:00:00Z,scale"))
                .hasMessageContaining("scale needs one argument, the parallelism");
        assertThatThrownBy(() -> ControlCommand.parse("2014-03-01T00:00:00Z,scale,0"))
                .hasMessageContaining("parallelism must be >= 1");
        assertThatThrownBy(() -> ControlCommand.parse("2014-03-01T00:00:00Z,scale,many"))
                .hasMessageContaining("'many' is not a whole number in decimal digits");
        assertThatThrownBy(() -> ControlCommand.parse("2014-03-01T00:00:00Z,unscale,4"))
                .hasMessageContaining("takes no argument");
        ControlCommand z = ControlCommand.parse("2014-03-01T00:00:00Z,Anomaly-Z,2.5");
        assertThat(z.type()).isEqualTo(ControlCommand.Type.ANOMALY_Z);
        assertThat(z.anomalyZ()).isEqualTo(2.5);
        assertThat(ControlCommand.line(z.at(), z.type(), z.key())).isEqualTo("2014-03-01T00:00:00Z,anomaly-z,2.5");
        assertThatThrownBy(() -> ControlCommand.parse("2014-03-01T00:00:00Z,anomaly-z,-1"))
                .hasMessageContaining("anomaly-z must be a number > 0");
        // a number beyond a double's range is not called non-positive
        assertThatThrownBy(() -> ControlCommand.parse("2014-03-01T00:00:00Z,anomaly-z,1e400"))
                .hasMessageContaining("anomaly-z must be a finite number, was 1e400");
        assertThatThrownBy(() -> ControlCommand.parse("2014-03-01T00:00:00Z,anomaly-z"))
                .hasMessageContaining("anomaly-z needs one argument");
        // a long argument that is no number is refused at once: the number pattern split a run of digits between two
        // quantifiers, some 10^10 steps for these lines on the planner's task thread, at every restart
        String digits = "1".repeat(300_000);
        for (String line : List.of("2014-03-01T00:00:00Z,anomaly-z," + digits + "x",
                "2014-03-01T00:00:00Z,sampling-rate,-" + digits + "x")) {
            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(20),
                    () -> assertThatThrownBy(() -> ControlCommand.parse(line))
                            .isInstanceOf(IllegalArgumentException.class));
        }
        assertThat(ControlCommand.parse("2014-03-01T00:00:00Z,anomaly-z,1.e1").anomalyZ()).isEqualTo(10.0);
        assertThat(ControlCommand.parse("2014-03-01T00:00:00Z,sampling-rate,.25").samplingRate()).isEqualTo(0.25);
        // a time the job cannot hold is refused as malformed, not thrown at the job as an ArithmeticException
        assertThatThrownBy(() -> ControlCommand.parse("+300000000-01-01T00:00:00Z,freeze"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("beyond the range");
        assertThatThrownBy(() -> ControlCommand.parse("+300000000-01-01T00:00:00+01:00,freeze"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("beyond the range");
        assertThatThrownBy(() -> ControlCommand.parse("99999999999999999999,freeze"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("beyond the range");
        assertThatThrownBy(() -> ControlCommand.parse(
                "2014-03-01T00:00:00Z,revert,k,7,9,+300000000-01-01T00:00:00Z"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("beyond the range");
        // a time outside the years 0001..9999 (epoch microseconds taken for milliseconds: the year 46,000) waited for
        // ever, neither applied nor refused; the command line refused it, the job took it
        for (String far : new String[] {"1393632000000000", "+20140-03-01T00:00:00Z", "-0001-01-01T00:00:00Z"}) {
            assertThatThrownBy(() -> ControlCommand.parse(far + ",freeze")).as(far)
                    .hasMessageContaining("is outside the years 0001..9999");
        }
        assertThat(ControlCommand.parse("9999-12-31T23:59:59.999Z,freeze").at())
                .isEqualTo(java.time.Instant.parse("9999-12-31T23:59:59.999Z").toEpochMilli());
        // numbers as decimal digits in ASCII: Java's parsers took hexadecimal, suffixes and other scripts' digits
        for (String[] c : new String[][] {{"sampling-rate,0x1p-2", "is not a decimal number"},
                {"sampling-rate,0.25d", "is not a decimal number"}, {"anomaly-z,4F", "is not a decimal number"},
                {"anomaly-z,NaN", "is not a decimal number"}, {"anomaly-z,Infinity", "is not a decimal number"},
                {"scale,\u0665", "is not a whole number in decimal digits"},
                {"scale,\uFF15", "is not a whole number in decimal digits"},
                {"scale,-3", "parallelism must be >= 1, was -3"},
                {"scale,99999999999", "is out of range"},
                {"rollback,99999999999999999999", "is out of range"},
                {"sampling-rate,-0.5", "must be in (0, 1], was -0.5"}}) {
            assertThatThrownBy(() -> ControlCommand.parse("2014-03-01T00:00:00Z," + c[0])).as(c[0])
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(c[1]);
        }
        assertThat(ControlCommand.parse("2014-03-01T00:00:00Z,sampling-rate,.25").samplingRate()).isEqualTo(0.25);
        assertThat(ControlCommand.parse("2014-03-01T00:00:00Z,anomaly-z,+2.5e0").anomalyZ()).isEqualTo(2.5);
        assertThat(ControlCommand.parse("2014-03-01T00:00:00Z,scale,+4").parallelism()).isEqualTo(4);
        // ... but what an earlier build accepted and kept in state is restored as it was
        assertThat(ControlState.pendingCommand("1393632000000000,sampling-rate,0.25d").samplingRate())
                .isEqualTo(0.25);
    }

    /**
     * Control state that starts at a later plan (a job restored from a savepoint taken without a control input) knows
     * no routing before it: a rollback to an earlier version is refused, not a return of every key home.
     */
    @Test
    void aRollbackBeforeTheFirstPlanTheStateSawIsRefused() {
        ControlState s = new ControlState(10);
        s.issued(plan(500, "k", 7, 1), false);
        s.add(ControlCommand.parse(MARCH + ",rollback,100"));
        s.add(ControlCommand.parse(MARCH + ",rollback,500"));
        assertThat(s.advanceTo(MARCH + 1)).extracting(ControlState.Rejected::reason).containsExactly(
                "plan version 100 is no longer kept (the oldest a rollback can name is 500; "
                        + "keyshift.control.rollback-versions)");
        assertThat(s.control().rollbackTarget()).containsOnlyKeys("k");
    }

    /**
     * A waiting pin of an integer key, taken in the stage's form (00042 as 42), is kept as a line that a restore parses
     * back to the same command (it parsed back to 00042, which named no key, and pinned nothing after a restore).
     */
    @Test
    void aCommandWithItsKeyInTheStagesFormSurvivesACheckpoint() throws Exception {
        ControlCommand pin = ControlCommand.parse("2030-01-01T00:00:00Z,pin,00042").withKey("42");
        assertThat(ControlCommand.parse(pin.line())).isEqualTo(pin);
        ControlCommand revert = ControlCommand.parse("2030-01-01T00:00:00Z,revert,007,3,,,\"shadow, mismatch\"");
        ControlCommand canonical = revert.withKey("7");
        assertThat(canonical.key()).isEqualTo("7");
        assertThat(ControlCommand.parse(canonical.line())).isEqualTo(canonical);
        ControlState s = new ControlState(2);
        s.add(pin);
        ControlState restored = ControlState.fromBytes(s.toBytes(), 2);
        restored.advanceTo(Long.MAX_VALUE);
        assertThat(restored.view().getPinnedKeys()).containsExactly("42");
    }

    /**
     * A revert whose reason spans lines (a quoted field with a line break), taken with its key in the stage's form:
     * the rewritten line quotes the break and parses back to one command with the same reason, also after a
     * checkpoint (the break went out unquoted, and the line read back as two records: the planner failed on it at
     * every restore).
     */
    @Test
    void aReasonWithALineBreakSurvivesTheKeysRewriteAndACheckpoint() throws Exception {
        ControlCommand revert = ControlCommand.parse(
                "2030-01-01T00:00:00Z,revert,007,3,,,\"bad shadow\nsee ticket 12\"").withKey("7");
        assertThat(revert.reason()).isEqualTo("bad shadow\nsee ticket 12");
        assertThat(ControlCommand.parse(revert.line())).isEqualTo(revert);
        assertThat(revert.ifAtKeyGroup()).isEqualTo(-1);
        ControlState s = new ControlState(8);
        s.add(revert);
        ControlState restored = ControlState.fromBytes(s.toBytes(), 8);
        assertThat(restored.advanceTo(Long.MAX_VALUE)).isEmpty();
        assertThat(restored.control().revertTo()).containsOnlyKeys("7");
        assertThat(ControlCommand.quoteField("a\rb")).isEqualTo("\"a\rb\"");
    }

    /**
     * A checkpoint of a build before the fix above holds such a revert's line with the break unquoted: it restores,
     * the break read as a blank (it failed the planner at every restore).
     */
    @Test
    void aWaitingRevertWithAnUnquotedLineBreakFromAnEarlierBuildRestores() throws Exception {
        ControlState s = new ControlState(8);
        s.add(ControlCommand.parse("2030-01-01T00:00:00Z,revert,7,3,,,\"bad shadow\nsee ticket 12\""));
        byte[] b = s.toBytes();
        // the line as the earlier build wrote it: the same bytes but the reason's quotes (same UTF-8 length less 2)
        String quoted = "2030-01-01T00:00:00Z,revert,7,3,,,\"bad shadow\nsee ticket 12\"";
        String unquoted = "2030-01-01T00:00:00Z,revert,7,3,,,bad shadow\nsee ticket 12";
        byte[] old = replaceString(b, quoted, unquoted);
        assertThatThrownBy(() -> ControlCommand.parse(unquoted)).isInstanceOf(IllegalArgumentException.class);
        ControlState restored = ControlState.fromBytes(old, 8);
        assertThat(new String(restored.toBytes(), java.nio.charset.StandardCharsets.UTF_8))
                .as("the waiting revert, its reason on one line").contains("bad shadow see ticket 12");
        ControlCommand revert = ControlState.pendingCommand(unquoted);
        assertThat(revert.key()).isEqualTo("7");
        assertThat(revert.reason()).isEqualTo("bad shadow see ticket 12");
    }

    /** {@code b} with the length-prefixed UTF-8 string {@code from} (writeUTF or int length) replaced by {@code to}. */
    private static byte[] replaceString(byte[] b, String from, String to) {
        byte[] f = from.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] t = to.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        for (int i = 0; i + f.length <= b.length; i++) {
            if (java.util.Arrays.equals(b, i, i + f.length, f, 0, f.length)) {
                java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(b.length - f.length + t.length);
                out.put(b, 0, i);
                // the length prefix just before the string: 4 bytes (int) or 2 (writeUTF)
                int prefix = i >= 4 && java.nio.ByteBuffer.wrap(b, i - 4, 4).getInt() == f.length ? 4 : 2;
                out.position(i - prefix);
                if (prefix == 4) {
                    out.putInt(t.length);
                } else {
                    out.putShort((short) t.length);
                }
                out.put(t);
                out.put(b, i + f.length, b.length - i - f.length);
                return out.array();
            }
        }
        throw new AssertionError("no " + from + " in the state");
    }

    /**
     * Version 1 as the first builds with a control input wrote it (2026-11-29), ending after the commands' counts,
     * without reverts and holds: it restores (it failed every restore on reading past its end).
     */
    @Test
    void aVersionOneStateWithoutRevertsAndHoldsRestores() throws Exception {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
            out.writeInt(1);
            out.writeInt(0);
            out.writeInt(1);
            out.writeUTF("hot-station");
            out.writeBoolean(true);
            out.writeLong(-1);
            out.writeInt(-1);
            out.writeInt(0);
            out.writeLong(1);
            out.writeLong(3);
            out.writeLong(2);
            out.writeLong(0);
        }
        ControlState s = ControlState.fromBytes(bytes.toByteArray(), 8);
        assertThat(s.view().getFrozen()).isTrue();
        assertThat(s.view().getPinnedKeys()).containsExactly("hot-station");
        assertThat(s.view().getCommandsApplied()).isEqualTo(2);
        assertThat(s.revertsDone()).isZero();
    }

    /**
     * With a key secret the control input's keys are mapped to pseudonyms before the planner reads them: a pin, unpin
     * or revert whose key is missing stays without one, and is refused (the empty key's pseudonym parsed, and pinned
     * the key ""); the empty-string key itself, quoted, is a key and gets its pseudonym.
     */
    @Test
    void aMissingKeyStaysMissingUnderTheKeyMap() {
        java.util.function.UnaryOperator<String> pseudonym = k -> "~" + Integer.toHexString(k.hashCode());
        assertThat(ControlCommand.parse(ControlCommand.mapKey("now,pin,\"\"", pseudonym)).key())
                .isEqualTo(pseudonym.apply(""));
        for (String line : List.of("now,pin,", "now,unpin, ", "now,revert,,12", "\"\"")) {
            String mapped = ControlCommand.mapKey(line, pseudonym);
            assertThatThrownBy(() -> ControlCommand.parse(mapped)).as(line + " -> " + mapped)
                    .isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(ControlCommand.parse(ControlCommand.mapKey("now,pin,a", pseudonym)).key())
                .isEqualTo(pseudonym.apply("a"));
        // a null element of a library job's control stream failed the task here
        assertThat(ControlCommand.mapKey(null, pseudonym)).isNull();
    }

    /** An unpin of a key the configuration pins is refused for that reason, not as "not pinned" (it stays pinned). */
    @Test
    void anUnpinOfAConfiguredPinNamesTheOption() {
        ControlState s = new ControlState(4).withConfiguredPins(java.util.Set.of("hot"));
        s.add(ControlCommand.parse("2014-03-01T00:00:00Z,unpin,hot"));
        s.add(ControlCommand.parse("2014-03-01T00:00:00Z,unpin,cold"));
        List<ControlState.Rejected> refused = s.advanceTo(java.time.Instant.parse("2014-03-02T00:00:00Z")
                .toEpochMilli());
        assertThat(refused).extracting(ControlState.Rejected::reason).containsExactly(
                "key 'hot' is pinned by keyshift.plan.pinned-keys, which a command cannot undo",
                "key 'cold' is not pinned");
    }

    @Test
    void aByteOrderMarkBeforeTheFirstLineIsNoPartOfIt() {
        assertThat(ControlCommand.parse("\uFEFF2014-03-01T00:00:00Z,freeze").type())
                .isEqualTo(ControlCommand.Type.FREEZE);
        assertThat(ControlCommand.parse("\uFEFF# steering for March")).isNull();
    }

    /** A revert's condition since {@code now} read back as "since any time" (now is Long.MIN_VALUE): refused. */
    @Test
    void aRevertConditionSinceNowIsRefused() {
        assertThatThrownBy(() -> ControlCommand.parse("now,revert,k,3,4,now"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not now");
        assertThat(ControlCommand.parse("now,revert,k,3,4,2014-03-01T00:00:00Z").ifSince())
                .isEqualTo(java.time.Instant.parse("2014-03-01T00:00:00Z").toEpochMilli());
    }

    /**
     * A command written {@code now} holds from the next plan whatever its event time (a job behind the wall clock, a
     * backfill of 2014, applies it at once), and reads back as {@code now}, also after a checkpoint.
     */
    @Test
    void aCommandOfNowHoldsFromTheNextPlanWhateverTheEventTime() throws Exception {
        ControlCommand freeze = ControlCommand.parse("now,freeze");
        assertThat(freeze.at()).isEqualTo(ControlCommand.NOW);
        assertThat(ControlCommand.line(freeze.at(), freeze.type(), null)).isEqualTo("now,freeze");
        assertThat(ControlCommand.parse("NOW,pin,k").at()).isEqualTo(ControlCommand.NOW);
        ControlState s = new ControlState(2);
        s.add(freeze);
        ControlState restored = ControlState.fromBytes(s.toBytes(), 2);
        assertThat(restored.advanceTo(MARCH - 1)).isEmpty();
        assertThat(restored.view().getFrozen()).isTrue();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ControlCommand.parse("nowish,freeze"))
                .hasMessageContaining("nor now");
    }

    /**
     * A command of "now" comes after the timed commands that arrived before it and are due in the same plan (it
     * sorted first, as the earliest time: an unpin sent after a pin due in that plan was refused, and the key stayed
     * pinned); after the first plan, a sampling rate of "now" holds from the plan that applies it, also after an
     * earlier timed rate.
     */
    @Test
    void aCommandOfNowAppliesAfterTheTimedOnesDueInTheSamePlan() {
        ControlState s = new ControlState(2);
        s.issued(plan(1, null, 0, 0), false);
        s.add(ControlCommand.parse(MARCH + 10 + ",pin,k"));
        s.add(ControlCommand.parse("now,unpin,k"));
        s.add(ControlCommand.parse(MARCH + ",sampling-rate,0.1"));
        s.add(ControlCommand.parse("now,sampling-rate,0.5"));
        assertThat(s.advanceTo(MARCH + 20)).isEmpty();
        assertThat(s.view().getPinnedKeys()).isEmpty();
        assertThat(s.view(MARCH + 20).getSamplingRates()).last()
                .satisfies(r -> {
                    assertThat(r.getFrom()).isEqualTo(MARCH + 20);
                    assertThat(r.getRate()).isEqualTo(0.5);
                });
    }

    /**
     * A timed command due exactly at the plan's start comes before a "now" command of the same plan whatever their
     * arrival order (a command for a window boundary is what --at names): pin then unpin, freeze then unfreeze.
     */
    @Test
    void aCommandOfNowAppliesAfterATimedOneDueAtThePlansStartThatArrivedLater() {
        ControlState s = new ControlState(2);
        s.issued(plan(1, null, 0, 0), false);
        s.add(ControlCommand.parse("now,unpin,k"));
        s.add(ControlCommand.parse(MARCH + 20 + ",pin,k"));
        s.add(ControlCommand.parse("now,unfreeze"));
        s.add(ControlCommand.parse(MARCH + 20 + ",freeze"));
        assertThat(s.advanceTo(MARCH + 20)).isEmpty();
        assertThat(s.view().getPinnedKeys()).isEmpty();
        assertThat(s.view().getFrozen()).isFalse();
    }

    /**
     * Before the first plan, a sampling rate of "now" holds from the first window and a timed rate overrides it from
     * its time, whatever their order: the rule of lines known in advance, by which the routers sample the windows
     * they open before the first plan comes (the planner put "now" at the first plan's start, after the timed rate:
     * a replay's routers sampled the windows from there at one rate or the other, by when the plan came). The rate in
     * force is the latest one from or before the plan's start, also when a timed rate comes after a later one.
     */
    @Test
    void beforeTheFirstPlanASamplingRateOfNowHoldsFromTheFirstWindowAsInLinesKnownInAdvance() {
        ControlState s = new ControlState(2);
        s.add(ControlCommand.parse("now,sampling-rate,0.25"));
        s.add(ControlCommand.parse(MARCH + ",sampling-rate,0.5"));
        assertThat(s.advanceTo(MARCH + 20)).isEmpty();
        assertThat(s.view(MARCH + 20).getSamplingRates()).extracting(r -> r.getFrom() + "=" + r.getRate())
                .containsExactly(Long.MIN_VALUE + "=0.25", MARCH + "=0.5");
        assertThat(s.samplingRate()).isEqualTo(0.5);
        s.issued(plan(1, null, 0, 0), false);
        s.add(ControlCommand.parse(MARCH - 10 + ",sampling-rate,0.125"));
        assertThat(s.advanceTo(MARCH + 30)).isEmpty();
        assertThat(s.samplingRate()).as("March's rate still holds at the plan's start").isEqualTo(0.5);
    }

    @Test
    void scaleForcesAParallelismUntilUnscaleAndSurvivesACheckpoint() throws Exception {
        ControlCommand scale = ControlCommand.parse("2014-03-01T00:00:00Z,scale,6");
        assertThat(scale.type()).isEqualTo(ControlCommand.Type.SCALE);
        assertThat(scale.parallelism()).isEqualTo(6);
        ControlState s = new ControlState(2);
        s.add(scale);
        s.add(ControlCommand.parse(MARCH + 10 + ",unscale"));
        s.add(ControlCommand.parse(MARCH + 20 + ",unscale"));
        assertThat(s.advanceTo(MARCH - 1)).isEmpty();
        assertThat(s.forcedParallelism()).isZero();
        assertThat(s.advanceTo(MARCH)).isEmpty();
        assertThat(s.forcedParallelism()).isEqualTo(6);
        assertThat(s.view().getForcedParallelism()).isEqualTo(6);
        ControlState restored = ControlState.fromBytes(s.toBytes(), 2);
        assertThat(restored.forcedParallelism()).isEqualTo(6);
        assertThat(restored.advanceTo(MARCH + 20)).extracting(ControlState.Rejected::reason)
                .containsExactly("no parallelism is forced");
        assertThat(restored.forcedParallelism()).isZero();
    }

    /** In a stage that does not scale, scale and unscale are refused with the reason, not applied to nothing. */
    @Test
    void scaleAndUnscaleAreRefusedWhereTheStageDoesNotScale() throws Exception {
        ControlState s = new ControlState(2).withScaling(false);
        s.add(ControlCommand.parse(MARCH + ",scale,6"));
        s.add(ControlCommand.parse(MARCH + ",unscale"));
        s.add(ControlCommand.parse(MARCH + ",pin,k"));
        List<ControlState.Rejected> refused = s.advanceTo(MARCH);
        assertThat(refused).hasSize(2).allSatisfy(r -> assertThat(r.reason())
                .contains("does not scale").contains("keyshift.scaling.capacity"));
        assertThat(s.forcedParallelism()).isZero();
        assertThat(s.control().pinned()).containsExactly("k");

        // a parallelism forced before a restore into a stage that does not scale can still be released
        ControlState scaled = new ControlState(2);
        scaled.add(ControlCommand.parse(MARCH + ",scale,6"));
        scaled.advanceTo(MARCH);
        ControlState restored = ControlState.fromBytes(scaled.toBytes(), 2).withScaling(false);
        assertThat(restored.forcedParallelism()).isEqualTo(6);
        restored.add(ControlCommand.parse(MARCH + 1 + ",unscale"));
        assertThat(restored.advanceTo(MARCH + 1)).isEmpty();
        assertThat(restored.forcedParallelism()).isZero();
    }

    /**
     * Control state of earlier versions (1: before scale, 2: before anomaly-z, 3: before sampling-rate) is read: the
     * new fields start at 0.
     */
    @Test
    void controlStateOfEarlierVersionsIsRead() throws Exception {
        ControlState s = new ControlState(2);
        s.add(ControlCommand.parse(MARCH + ",pin,k"));
        s.add(ControlCommand.parse(MARCH + ",scale,6"));
        s.add(ControlCommand.parse(MARCH + ",anomaly-z,2"));
        s.add(ControlCommand.parse(MARCH + 5 + ",freeze"));
        s.add(ControlCommand.parse(MARCH + 7 + ",sampling-rate,0.5"));
        s.advanceTo(MARCH);
        byte[] v4 = s.toBytes(4);
        assertThat(java.nio.ByteBuffer.wrap(v4).getInt()).isEqualTo(4);
        assertThat(java.nio.ByteBuffer.wrap(s.toBytes()).getInt()).isEqualTo(5);
        assertThat(ControlState.fromBytes(s.toBytes(), 2).view()).isEqualTo(ControlState.fromBytes(v4, 2).view());
        // version 3 wrote everything but the sampling rate in force and the rates (a double, a count, one entry)
        byte[] v3 = java.util.Arrays.copyOf(v4, v4.length - 8 - 4 - 16);
        java.nio.ByteBuffer.wrap(v3).putInt(0, 3);
        // version 2 wrote everything but the anomaly z (a double at the end), version 1 also no forced parallelism
        byte[] v2 = java.util.Arrays.copyOf(v3, v3.length - 8);
        java.nio.ByteBuffer.wrap(v2).putInt(0, 2);
        byte[] v1 = java.util.Arrays.copyOf(v3, v3.length - 12);
        java.nio.ByteBuffer.wrap(v1).putInt(0, 1);
        ControlState r4 = ControlState.fromBytes(v4, 2);
        assertThat(r4.view().getSamplingRates()).hasSize(1);
        assertThat(r4.view().getSamplingRates().get(0).getRate()).isEqualTo(0.5);
        ControlState r3 = ControlState.fromBytes(v3, 2);
        // the pending sampling-rate command of an older state is known again for the plans
        assertThat(r3.view().getSamplingRates()).isEqualTo(r4.view().getSamplingRates());
        ControlState r2 = ControlState.fromBytes(v2, 2);
        ControlState r1 = ControlState.fromBytes(v1, 2);
        assertThat(r3.view().getForcedParallelism()).isEqualTo(6);
        assertThat(r3.view().getAnomalyZ()).isEqualTo(2.0);
        assertThat(r2.view().getForcedParallelism()).isEqualTo(6);
        assertThat(r2.view().getAnomalyZ()).isZero();
        assertThat(r1.view().getForcedParallelism()).isZero();
        for (ControlState r : List.of(r1, r2, r3)) {
            assertThat(r.control().pinned()).containsExactly("k");
            assertThat(r.advanceTo(MARCH + 5)).isEmpty();
            assertThat(r.frozen()).as("the pending freeze survived").isTrue();
        }
        byte[] v6 = v4.clone();
        java.nio.ByteBuffer.wrap(v6).putInt(0, 6);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ControlState.fromBytes(v6, 2))
                .hasMessageContaining("unknown control state version 6");
    }

    /**
     * A revert to a key group beyond the job's, kept by a version that did not check them (pending, or applied and
     * waiting for the planner), is dropped after a restore and counted as refused; a valid one stays.
     */
    @Test
    void revertsOutsideTheKeyGroupsInRestoredStateAreDropped() throws Exception {
        ControlState s = new ControlState(2);
        s.add(ControlCommand.parse(MARCH + ",revert,a,200"));
        s.add(ControlCommand.parse(MARCH + ",revert,b,3"));
        s.add(ControlCommand.parse(MARCH + 10 + ",revert,c,5,300," + MARCH));
        s.advanceTo(MARCH);
        ControlState restored = ControlState.fromBytes(s.toBytes(), 2);
        assertThat(restored.dropRevertsOutside(128)).containsExactly(MARCH + 10 + ",revert,c,5,300," + MARCH,
                "revert,a,200");
        assertThat(restored.control().revertTo()).containsOnlyKeys("b");
        assertThat(restored.view().getCommandsRejected()).isEqualTo(2);
        // the applied one that is dropped is no longer counted as applied: applied and refused add up to the three
        assertThat(restored.view().getCommandsApplied()).isEqualTo(1);
        assertThat(restored.dropRevertsOutside(128)).isEmpty();
    }

    /** A key of more than 65,535 bytes (writeUTF's limit) is kept through a checkpoint, pinned and moved. */
    @Test
    void aKeyOfAnyLengthSurvivesACheckpoint() throws Exception {
        String key = "k".repeat(70_000);
        ControlState s = new ControlState(2);
        s.issued(plan(1, key, 5, 1), false);
        s.add(ControlCommand.parse(MARCH + "," + ControlCommand.Type.PIN.name().toLowerCase() + "," + key));
        s.advanceTo(MARCH);
        ControlState restored = ControlState.fromBytes(s.toBytes(), 2);
        assertThat(restored.control().pinned()).containsExactly(key);
        assertThat(restored.view()).isEqualTo(s.view());
    }

    @Test
    void samplingRateCommandsReachThePlansBeforeTheirTimeAndOlderOnesLeave() {
        assertThat(ControlCommand.parse(MARCH + ",sampling-rate,0.25").samplingRate()).isEqualTo(0.25);
        for (String bad : List.of("0", "1.5", "often", "")) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> ControlCommand.parse(MARCH + ",sampling-rate,"
                    + bad)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sampling-rate");
        }
        ControlState s = new ControlState(4);
        s.add(ControlCommand.parse(MARCH + ",sampling-rate,0.5"));
        s.add(ControlCommand.parse(MARCH + 100 + ",sampling-rate,0.25"));
        // before either holds, plans carry both (the routers need them before the records of their windows)
        assertThat(s.view(MARCH - 1).getSamplingRates()).extracting(r -> r.getFrom() + "=" + r.getRate())
                .containsExactly(MARCH + "=0.5", (MARCH + 100) + "=0.25");
        s.advanceTo(MARCH);
        assertThat(s.samplingRate()).isEqualTo(0.5);
        s.advanceTo(MARCH + 100);
        assertThat(s.samplingRate()).isEqualTo(0.25);
        // earlier ones stay while few (a router restored from this plan may open an older window)
        assertThat(s.view(MARCH + 100).getSamplingRates()).extracting(r -> r.getFrom() + "=" + r.getRate())
                .containsExactly(MARCH + "=0.5", (MARCH + 100) + "=0.25");
        for (int i = 1; i <= ControlState.SAMPLING_RATES_KEPT; i++) {
            s.add(ControlCommand.parse(MARCH + 100 + i + ",sampling-rate,0.25"));
        }
        assertThat(s.view(MARCH + 200).getSamplingRates()).hasSize(ControlState.SAMPLING_RATES_KEPT)
                .noneMatch(r -> r.getFrom() <= MARCH + 100);
        assertThat(s.applied()).isEqualTo(2);
    }

    private static RoutingPlan plan(long version, String key, int keyGroup, int natural) {
        List<RouteEntry> entries = new ArrayList<>();
        if (key != null) {
            entries.add(RouteEntry.newBuilder().setKey(key).setNaturalKeyGroup(natural).setKeyGroup(keyGroup)
                    .setMigration(null).build());
        }
        return RoutingPlan.newBuilder().setVersion(version).setValidUntil(0).setBasedOnWindowEnd(0)
                .setMaxParallelism(128).setParallelism(4).setEntries(entries).setPredictedImbalanceBefore(1)
                .setPredictedImbalanceAfter(1).setMigrationsStarted(0).setMigrationsCompleted(0).build();
    }

    @Test
    void commandsApplyInTimeOrderAndRefuseWhatCannotApply() throws Exception {
        ControlState s = new ControlState(2);
        s.issued(plan(1, "k", 5, 1), false);
        s.issued(plan(2, "k", 7, 1), false);
        s.issued(plan(3, null, 0, 0), false);
        s.add(ControlCommand.parse(MARCH + 2 + ",unfreeze"));
        s.add(ControlCommand.parse(MARCH + ",freeze"));
        s.add(ControlCommand.parse(MARCH + ",unpin,nobody"));
        s.add(ControlCommand.parse(MARCH + ",rollback,1"));
        s.add(ControlCommand.parse(MARCH + ",rollback,9"));
        s.add(ControlCommand.parse(MARCH + ",rollback,2"));
        s.add(ControlCommand.parse(MARCH + ",pin,k"));
        assertThat(s.advanceTo(MARCH - 1)).isEmpty();
        assertThat(s.control().frozen()).isFalse();
        List<ControlState.Rejected> refused = s.advanceTo(MARCH + 1);
        assertThat(refused).extracting(ControlState.Rejected::reason).containsExactly(
                "key 'nobody' is not pinned",
                "plan version 1 is no longer kept (the oldest a rollback can name is 2; keyshift.control.rollback-versions)",
                "plan version 9 was not issued yet (the last is 3)");
        assertThat(s.control().frozen()).isTrue();
        assertThat(s.control().pinned()).containsExactly("k");
        assertThat(s.control().rollbackTarget()).containsOnlyKeys("k");
        assertThat(s.control().rollbackTarget().get("k")).containsExactly(7, 1);
        // the state survives a checkpoint
        ControlState restored = ControlState.fromBytes(s.toBytes(), 2);
        assertThat(restored.view()).isEqualTo(s.view());
        assertThat(restored.advanceTo(MARCH + 2)).isEmpty();
        assertThat(restored.control().frozen()).isFalse();
        restored.issued(plan(4, null, 0, 0), true);
        assertThat(restored.control().rollbackTarget()).isNull();
        assertThat(restored.view().getCommandsApplied()).isEqualTo(4);
        assertThat(restored.view().getCommandsRejected()).isEqualTo(3);
    }
}
