#!/usr/bin/env python3
"""bench/report.py WORKDIR: the Markdown report of bench/run.sh.

Reads WORKDIR/meta.tsv (key, value), scenarios.tsv (id, label),
results.tsv (id, client, run, "wall cpu rss_kib rc"), syncs.tsv (id,
client, sync calls, messages stored) and notes.tsv (id, text: why a
client shows n/a, say). Prints the summary table (medians;
ratios of popfetch's median wall time to mpop's and the floor's; CPU, peak
RSS and syncs per message of popfetch) and a table per client.
A client that did not run shows "n/a".
"""
import os
import statistics
import sys

w = sys.argv[1]


def rows(name):
    with open(os.path.join(w, name)) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


meta = dict(r for r in rows("meta.tsv") if len(r) == 2)
labels = rows("scenarios.tsv")
runs = {}
for sid, client, run, res in rows("results.tsv"):
    wall, cpu, rss, _ = res.split()
    runs.setdefault((sid, client), []).append((float(wall), float(cpu), int(rss)))
syncs = {(sid, client): (int(c), int(n)) for sid, client, c, n in rows("syncs.tsv")}
notes = rows("notes.tsv") if os.path.exists(os.path.join(w, "notes.tsv")) else []


def med(sid, client, k):
    v = runs.get((sid, client))
    return statistics.median(x[k] for x in v) if v else None


def secs(x):
    if x is None:
        return "n/a"
    return "%.2f s" % x if x >= 0.995 or x == 0 else "%.3f s" % x


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "n/a"
    return "%.2f×" % (a / b)


def rss(sid, client):
    v = runs.get((sid, client))
    return "%.1f MB" % (max(x[2] for x in v) / 1024.0) if v else "n/a"


def spm(sid, client):
    s = syncs.get((sid, client))
    return "%.2f" % (s[0] / s[1]) if s and s[1] else "n/a"


out = []
out.append("| scenario | floor | mpop | popfetch | popfetch/mpop | popfetch/floor "
           "| CPU | peak RSS | syncs/msg |")
out.append("|---|---|---|---|---|---|---|---|---|")
for sid, label in labels:
    f, m, p = (med(sid, c, 0) for c in ("floor", "mpop", "popfetch"))
    out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        label, secs(f), secs(m), secs(p), ratio(p, m), ratio(p, f),
        secs(med(sid, "popfetch", 1)), rss(sid, "popfetch"), spm(sid, "popfetch")))
out.append("")
out.append("Median wall time of %s run(s) per client; CPU (user + system), peak "
           "RSS and syncs per message (fsync, fdatasync, syncfs, sync_file_range "
           "calls in one more run under strace) are popfetch's. Per client:"
           % meta.get("runs", "?"))
out.append("")
out.append("| scenario | client | wall (median) | wall (min–max) | CPU | peak RSS | syncs/msg |")
out.append("|---|---|---|---|---|---|---|")
for sid, label in labels:
    for c in ("floor", "mpop", "popfetch"):
        v = runs.get((sid, c))
        if not v:
            out.append("| %s | %s | n/a | n/a | n/a | n/a | n/a |" % (label, c))
            continue
        walls = [x[0] for x in v]
        out.append("| %s | %s | %s | %s–%s | %s | %s | %s |" % (
            label, c, secs(med(sid, c, 0)), secs(min(walls)), secs(max(walls)),
            secs(med(sid, c, 1)), rss(sid, c), spm(sid, c)))
out.append("")
lab = dict(labels)
for sid, text in notes:
    out.append("- %s: %s" % (lab.get(sid, sid), text))
if notes:
    out.append("")
for k in ("date", "machine", "commit", "popfetch", "mpop", "dovecot"):
    if meta.get(k):
        out.append("- %s: %s" % (k, meta[k]))
if meta.get("short"):
    out.append("- short mode (BENCH_SHORT=1): scaled-down scenarios")
print("\n".join(out))
