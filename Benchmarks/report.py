#!/usr/bin/env python3
"""Turns Benchmarks/run.sh's measurements into the Markdown of RESULTS.md:
a table per load generator, and the ratios of kube-dns to the faster of
Knot DNS and NSD (queries/s, and CPU time per answered query).

usage: report.py RUNS_TSV SERVICES SECONDS RSS_10K_KIB RSS_100K_KIB LOAD_100K_SECONDS
                 [BASE_RSS_10K_KIB BASE_RSS_100K_KIB BASE_LOAD_100K_SECONDS]
With a baseline ("kube-dns-base" runs), kube-dns is also compared with it:
the ratio of the medians, and the spread of the ratios round by round.
"kube-dns-corefile" (kube-dns configured by kubeadm's Corefile) is compared
with kube-dns the same way, on cluster answers and on cache hits (the
"cache" load: names of an upstream's zone, answered from the cache).
"""
import csv
import statistics
import sys


def main():
    runs_path, services, seconds, rss10, rss100, load100 = sys.argv[1:7]
    base = sys.argv[7:10]
    with open(runs_path) as f:
        measured = list(csv.DictReader(f, delimiter="\t"))
    # The median of the rounds of each (server, load); lost queries added up.
    runs = []
    for key in dict.fromkeys((r["server"], r["load"]) for r in measured):
        rounds = [r for r in measured if (r["server"], r["load"]) == key]
        runs.append({
            "server": key[0], "load": key[1],
            "qps": statistics.median(float(r["qps"]) for r in rounds),
            "latency_us": statistics.median(float(r["latency_us"]) for r in rounds),
            "lost": sum(int(r["lost"]) for r in rounds),
            "cpu_us_per_query": statistics.median(float(r["cpu_us_per_query"]) for r in rounds),
            "rounds": len(rounds),
        })
    print(f"{services} services in 100 namespaces (10% headless, 3 endpoints each); "
          f"{seconds} s per run, median of {measured and runs[0]['rounds']} rounds; each server pinned to CPU 1 with one worker, load from CPU 0.\n")
    for load in ("dnsperf", "loadgen"):
        rows = [r for r in runs if r["load"] == load]
        print(f"**{load}**\n")
        print("| server | queries/s | mean latency (µs) | lost (all rounds) | server CPU per query (µs) |")
        print("|---|---:|---:|---:|---:|")
        for r in rows:
            print(f"| {r['server']} | {r['qps']:,.0f} | {r['latency_us']:.0f} | {r['lost']} | {r['cpu_us_per_query']:.2f} |")
        ours = next(r for r in rows if r["server"] == "kube-dns")
        peers = [r for r in rows if r["server"] in ("knot", "nsd")]
        best = max(peers, key=lambda r: r["qps"])
        qps_ratio = ours["qps"] / best["qps"]
        cpu_ratio = ours["cpu_us_per_query"] / best["cpu_us_per_query"]
        print(f"\nkube-dns / {best['server']} (the faster peer): **{qps_ratio:.2f}× the queries/s**, "
              f"**{cpu_ratio:.2f}× the CPU per query**.")
        # The same ratios round by round: runs next to each other in time.
        mine = [r for r in measured if r["server"] == "kube-dns" and r["load"] == load]
        theirs = [r for r in measured if r["server"] == best["server"] and r["load"] == load]
        rounds = ", ".join(f"{float(a['qps']) / float(b['qps']):.2f}×/{float(a['cpu_us_per_query']) / float(b['cpu_us_per_query']):.2f}×"
                           for a, b in zip(mine, theirs))
        print(f"Round by round (queries/s / CPU per query): {rounds}.")
        ceiling = next((r for r in rows if r["server"] == "ceiling"), None)
        if ceiling:
            print(f"The ceiling (a UDP echo doing no DNS work) answers {ceiling['qps'] / ours['qps']:.2f}× "
                  f"kube-dns's queries/s at {ceiling['cpu_us_per_query'] / ours['cpu_us_per_query']:.2f}× its CPU "
                  f"per query: kube-dns reaches {ours['qps'] / ceiling['qps']:.0%} of what the kernel's UDP path allows.")
        compare(runs, measured, load, "kube-dns", "kube-dns-base", "the build before")
        compare(runs, measured, load, "kube-dns-corefile", "kube-dns", "configured by flags")
        print()
    cache = [r for r in runs if r["load"] == "cache"]
    if cache:
        print("**cache hits** (loadgen, names of an upstream's zone, each answered from the cache after the first)\n")
        print("| server | queries/s | mean latency (µs) | lost (all rounds) | server CPU per query (µs) |")
        print("|---|---:|---:|---:|---:|")
        for r in cache:
            print(f"| {r['server']} | {r['qps']:,.0f} | {r['latency_us']:.0f} | {r['lost']} | {r['cpu_us_per_query']:.2f} |")
        print()
        compare(runs, measured, "cache", "kube-dns", "kube-dns-base", "the build before")
        compare(runs, measured, "cache", "kube-dns-corefile", "kube-dns", "configured by flags")
        print()
    if base:
        print(f"kube-dns-base RSS: {int(base[0]) / 1024:.1f} MiB with {services} services; "
              f"{int(base[1]) / 1024:.1f} MiB with 100,000 services (start to first answer: {base[2]} s).")
    print(f"kube-dns RSS: {int(rss10) / 1024:.1f} MiB with {services} services; "
          f"{int(rss100) / 1024:.1f} MiB with 100,000 services "
          f"(start to first answer: {load100} s).")


def compare(runs, measured, load, name, other, what):
    """`name` / `other` on `load`: the ratio of the medians, and the spread round by round."""
    ours = next((r for r in runs if r["server"] == name and r["load"] == load), None)
    theirs = next((r for r in runs if r["server"] == other and r["load"] == load), None)
    if ours is None or theirs is None:
        return
    mine = [r for r in measured if r["server"] == name and r["load"] == load]
    others = [r for r in measured if r["server"] == other and r["load"] == load]
    ratios = [float(a["qps"]) / float(b["qps"]) for a, b in zip(mine, others)]
    cpus = [float(a["cpu_us_per_query"]) / float(b["cpu_us_per_query"]) for a, b in zip(mine, others)]
    print(f"{name} / {other} ({what}): {ours['qps'] / theirs['qps']:.3f}× the queries/s "
          f"(rounds {min(ratios):.3f} to {max(ratios):.3f}), {ours['cpu_us_per_query'] / theirs['cpu_us_per_query']:.3f}× "
          f"the CPU per query (rounds {min(cpus):.3f} to {max(cpus):.3f}).")


if __name__ == "__main__":
    main()
