#!/usr/bin/env python3
"""How close can a planner that knows only the past come to the World Cup log's static oracle?

Reads ../shared/data/worldcup98-day6-sample/wc_day6_1_sample.csv.gz (no header: ClientID, Date, Time, URL,
ResponseCode, Size; a line that is not valid UTF-8 is left out, as the replay dead-letters it), counts requests per
URL and 5-minute window (UTC, as `bin/keyshift replay ... --window 5min` does), and measures, for p = 8 subtasks and
max parallelism 128, the load-weighted mean over the windows of each window's max / mean subtask load (the replay's
`imbalance`) under these assignments:

  hash             every URL in its natural key group (Flink's murmur hash of String.hashCode, as keyBy)
  static oracle    ONE longest-processing-time-first assignment (Graham 1969) of every URL by its total over the
                   whole day (the replay's reference: it knows the day's totals in advance)
  static, top K    the same, but only the K URLs of the largest day totals move; every other URL stays in its
                   natural key group, as the planner moves tracked keys (2 x keyshift.profiler.top-k at most) and
                   leaves the key-group residuals where they are
  past, top K, d   per window w, an LPT assignment from the URLs' counts of the windows before w, each window's
                   counts decayed by d per window (d = 1: the running totals): a planner that knows only the past,
                   may reassign every key in every window at no cost and plans w from everything up to w - 1
                   (keyshift's plans come a window later); top K: the K largest move, the rest stay natural;
                   "all": every URL moves; "+kg": the residual of each natural key group moves too, as one unit;
                   it also counts the keys seen before a window whose subtask differs from the window before's

The online rows are a model (no migration cost, no lag, no shadow copies), not the planner: what they tell is how
much of the static oracle's lead a planner that cannot see the day's totals could take at all.

Usage: python3 docs/analysis/worldcup_online.py [path/to/wc_day6_1_sample.csv.gz]   (standard library; about 2 minutes)
"""
import collections
import csv
import datetime
import gzip
import io
import sys

P = 8
MAX_PARALLELISM = 128
WINDOW_S = 300
MASK = 0xFFFFFFFF


def _signed(x):
    x &= MASK
    return x - (1 << 32) if x >= 1 << 31 else x


def _java_string_hash(s):
    h = 0
    b = s.encode("utf-16-be")
    for i in range(0, len(b), 2):
        h = (31 * h + (b[i] << 8 | b[i + 1])) & MASK
    return _signed(h)


def _rotl(x, r):
    return ((x << r) | (x >> (32 - r))) & MASK


def _fmix(h):
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & MASK
    h ^= h >> 16
    return h


def _flink_murmur(code):
    """org.apache.flink.util.MathUtils.murmurHash(int)."""
    code = (code * 0xCC9E2D51) & MASK
    code = _rotl(code, 15)
    code = (code * 0x1B873593) & MASK
    code = _rotl(code, 13)
    code = (code * 5 + 0xE6546B64) & MASK
    code ^= 4
    code = _signed(_fmix(code))
    if code >= 0:
        return code
    return -code if code != -(1 << 31) else 0


def key_group(key):
    return _flink_murmur(_java_string_hash(key)) % MAX_PARALLELISM


def natural_subtask(key):
    return key_group(key) * P // MAX_PARALLELISM


def read(path):
    windows = collections.defaultdict(collections.Counter)
    with gzip.open(path, "rb") as f:
        for raw in f:
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
            row = next(csv.reader(io.StringIO(line)))
            t = datetime.datetime.strptime(row[1] + " " + row[2], "%d/%b/%Y %H:%M:%S").replace(
                tzinfo=datetime.timezone.utc)
            start = int(t.timestamp()) // WINDOW_S * WINDOW_S
            windows[start][row[3]] += 1
    return dict(sorted(windows.items()))


def imbalance(loads):
    mean = sum(loads) / P
    return max(loads) / mean if mean > 0 else 1.0


def lpt(units, fixed):
    """units: (load, name) to place, heaviest first, ties by name; fixed: loads already on each subtask."""
    loads = list(fixed)
    placed = {}
    for load, name in sorted(units, key=lambda u: (-u[0], u[1])):
        i = min(range(P), key=lambda j: (loads[j], j))
        placed[name] = i
        loads[i] += load
    return placed


def weighted(windows, route):
    num = den = 0.0
    for w, counts in windows.items():
        loads = [0] * P
        for k, c in counts.items():
            loads[route(w, k)] += c
        n = sum(loads)
        num += imbalance(loads) * n
        den += n
    return num / den


def static(windows, top):
    totals = collections.Counter()
    for counts in windows.values():
        totals.update(counts)
    movable = {k for k, _ in totals.most_common(top)} if top else set(totals)
    fixed = [0] * P
    for k, c in totals.items():
        if k not in movable:
            fixed[natural_subtask(k)] += c
    placed = lpt([(totals[k], k) for k in movable], fixed)
    return weighted(windows, lambda w, k: placed.get(k, natural_subtask(k)))


def past(windows, top, decay, key_groups_move):
    past_counts = collections.Counter()
    routes = {}
    seen_before = {}
    for w, counts in windows.items():
        seen_before[w] = list(past_counts)
        movable = {k for k, _ in past_counts.most_common(top)} if top else set(past_counts)
        residual = collections.Counter()
        for k, c in past_counts.items():
            if k not in movable:
                residual[key_group(k)] += c
        fixed = [0.0] * P
        units = [(past_counts[k], k) for k in movable]
        if key_groups_move:
            units += [(c, "kg:%d" % g) for g, c in residual.items()]
        else:
            for g, c in residual.items():
                fixed[g * P // MAX_PARALLELISM] += c
        placed = lpt(units, fixed)
        routes[w] = placed
        for k in list(past_counts):
            past_counts[k] *= decay
        past_counts.update(counts)

    def route(w, k):
        placed = routes[w]
        if k in placed:
            return placed[k]
        g = key_group(k)
        return placed.get("kg:%d" % g, g * P // MAX_PARALLELISM)

    moves = 0
    previous = None
    for w, counts in windows.items():
        if previous is not None:
            moves += sum(1 for k in seen_before[w] if route(previous, k) != route(w, k))
        previous = w
    return weighted(windows, route), moves


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/worldcup98-day6-sample/wc_day6_1_sample.csv.gz"
    windows = read(path)
    print("%d windows, %d requests, %d URLs" % (len(windows), sum(sum(c.values()) for c in windows.values()),
                                               len({k for c in windows.values() for k in c})))
    print("%-28s %.3f" % ("hash", weighted(windows, lambda w, k: natural_subtask(k))))
    print("%-28s %.3f" % ("static oracle", static(windows, None)))
    for top in (128, 256, 512):
        print("%-28s %.3f" % ("static, top %d" % top, static(windows, top)))
    for top in (128, 256, None):
        for decay in (1.0, 0.99, 0.97):
            for kg in ((False, True) if top else (False,)):
                name = "past, %s%s, d %.2f" % ("top %d" % top if top else "all", " +kg" if kg else "", decay)
                print("%-28s %.3f   %6d keys change subtask" % ((name,) + past(windows, top, decay, kg)))


if __name__ == "__main__":
    main()
