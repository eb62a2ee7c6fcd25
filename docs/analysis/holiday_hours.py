#!/usr/bin/env python3
"""How low can a forecast take the imbalance of bike share's holiday hours?

Reads ../shared/data/bayarea-bikeshare-2014/batrips.csv.gz (start_station, start_date), counts trips per station and
local hour (America/Los_Angeles), and for every hour of the employer holidays of docs/calendars (New Year's Day
left out: it is the first day, with no history) assigns the stations to p = 8 subtasks by longest processing time
first (Graham 1969) on a forecast of the hour's counts, then measures the hour's actual max / mean subtask load.
The result is load-weighted over the holiday hours, like the replay's imbalance. Forecasts compared:

  oracle       the hour's own counts (what no forecast can know)
  sundays-K    the mean of the same local hour on the last K unmarked Sundays (what the calendar's day type does)
  weekend-K    the same hour on the last K weekend days or holidays
  weekdays-K   the same hour on the last K working days (what a forecast without the calendar leans to)
  days-K       the same hour on the last K days, whatever their type

Stations the forecast expects nothing of stay where a hash (CRC-32 mod p) puts them, as the planner leaves keys
it has not seen in their natural key group; "hash" puts every station there. This is a model of the
planner (stations, not key groups; no migration cost, no lag), not the planner: what it tells is how much a
forecast's day type can matter for a holiday hour's balance at all.

Usage: python3 docs/analysis/holiday_hours.py [path/to/batrips.csv.gz]   (standard library only; about 10 s)
"""
import collections
import csv
import datetime
import gzip
import sys
import zlib
from zoneinfo import ZoneInfo

P = 8
ZONE = ZoneInfo("America/Los_Angeles")
HOLIDAYS = [datetime.date.fromisoformat(d) for d in (
    "2014-01-20", "2014-02-17", "2014-05-26", "2014-07-04", "2014-09-01", "2014-11-27", "2014-11-28", "2014-12-25")]
MARKED = set(HOLIDAYS) | {datetime.date(2014, 1, 1)}


def read(path):
    counts = collections.defaultdict(collections.Counter)
    with gzip.open(path, "rt", newline="") as f:
        for row in csv.DictReader(f):
            t = datetime.datetime.strptime(row["start_date"], "%Y-%m-%d %H:%M:%S%z").astimezone(ZONE)
            counts[(t.date(), t.hour)][row["start_station"]] += 1
    return counts


def earlier(day, k, keep):
    out, d = [], day - datetime.timedelta(days=1)
    while len(out) < k:
        if keep(d):
            out.append(d)
        d -= datetime.timedelta(days=1)
    return out


def mean_hour(counts, days, hour):
    total = collections.Counter()
    for d in days:
        total.update(counts.get((d, hour), {}))
    return {s: c / len(days) for s, c in total.items()}


def lpt(forecast, stations):
    assignment = {s: zlib.crc32(s.encode()) % P for s in stations if forecast.get(s, 0.0) <= 0.0}
    loads = [0.0] * P
    for s in sorted((s for s in stations if s not in assignment), key=lambda s: (-forecast[s], s)):
        i = min(range(P), key=lambda i: loads[i])
        assignment[s] = i
        loads[i] += forecast[s]
    return assignment


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/bayarea-bikeshare-2014/batrips.csv.gz"
    counts = read(path)
    stations = sorted({s for c in counts.values() for s in c})
    sunday = lambda d: d.weekday() == 6 and d not in MARKED
    weekend = lambda d: d.weekday() >= 5 or d in MARKED
    working = lambda d: d.weekday() < 5 and d not in MARKED
    forecasts = {"oracle": lambda d, h: counts.get((d, h), {}), "hash": lambda d, h: {}}
    for k in (2, 4, 8, 16):
        forecasts[f"sundays-{k}"] = lambda d, h, k=k: mean_hour(counts, earlier(d, k, sunday), h)
    for k in (8, 16):
        forecasts[f"weekend-{k}"] = lambda d, h, k=k: mean_hour(counts, earlier(d, k, weekend), h)
    for k in (1, 5, 20):
        forecasts[f"weekdays-{k}"] = lambda d, h, k=k: mean_hour(counts, earlier(d, k, working), h)
    for k in (1, 7, 28):
        forecasts[f"days-{k}"] = lambda d, h, k=k: mean_hour(counts, earlier(d, k, lambda d: True), h)
    print(f"{'forecast':<12} imbalance on the holidays' hours (p = {P}, load-weighted)")
    for name, forecast in forecasts.items():
        weighted = total = 0
        for day in HOLIDAYS:
            for hour in range(24):
                actual = counts.get((day, hour), {})
                n = sum(actual.values())
                if n == 0:
                    continue
                assignment = lpt(forecast(day, hour), stations)
                loads = [0] * P
                for s, c in actual.items():
                    loads[assignment[s]] += c
                weighted += n * max(loads) / (n / P)
                total += n
        print(f"{name:<12} {weighted / total:.3f}")


if __name__ == "__main__":
    main()
