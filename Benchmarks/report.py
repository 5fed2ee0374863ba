#!/usr/bin/env python3
"""Turns Benchmarks/run.sh's measurements into the Markdown of RESULTS.md:
a table per load generator, and the ratios of kube-dns to the faster of
Knot DNS and NSD (queries/s, and CPU time per answered query).

usage: report.py RUNS_TSV SERVICES SECONDS RSS_10K_KIB RSS_100K_KIB LOAD_100K_SECONDS
"""
import csv
import sys


def main():
    runs_path, services, seconds, rss10, rss100, load100 = sys.argv[1:7]
    with open(runs_path) as f:
        runs = list(csv.DictReader(f, delimiter="\t"))
    print(f"{services} services in 100 namespaces (10% headless, 3 endpoints each); "
          f"{seconds} s per run; each server pinned to CPU 1 with one worker, load from CPU 0.\n")
    for load in ("dnsperf", "loadgen"):
        rows = [r for r in runs if r["load"] == load]
        print(f"**{load}**\n")
        print("| server | queries/s | mean latency (µs) | lost | server CPU per query (µs) |")
        print("|---|---:|---:|---:|---:|")
        for r in rows:
            print(f"| {r['server']} | {float(r['qps']):,.0f} | {r['latency_us']} | {r['lost']} | {r['cpu_us_per_query']} |")
        ours = next(r for r in rows if r["server"] == "kube-dns")
        peers = [r for r in rows if r["server"] != "kube-dns"]
        best = max(peers, key=lambda r: float(r["qps"]))
        qps_ratio = float(ours["qps"]) / float(best["qps"])
        cpu_ratio = float(ours["cpu_us_per_query"]) / float(best["cpu_us_per_query"])
        print(f"\nkube-dns / {best['server']} (the faster peer): **{qps_ratio:.2f}× the queries/s**, "
              f"**{cpu_ratio:.2f}× the CPU per query**.\n")
    print(f"kube-dns RSS: {int(rss10) / 1024:.1f} MiB with {services} services; "
          f"{int(rss100) / 1024:.1f} MiB with 100,000 services "
          f"(start to first answer: {load100} s).")


if __name__ == "__main__":
    main()
