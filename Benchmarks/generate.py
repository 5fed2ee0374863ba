#!/usr/bin/env python3
"""Generates a benchmark cluster: SERVICES services in NAMESPACES namespaces,
10% of them headless with ENDPOINTS ready endpoints each (default 3), as a Kubernetes objects
file (JSON List), plus a query file in dnsperf's format:
70% A on existing names, 15% SRV, 10% AAAA on names that have only A
(NODATA), 5% NXDOMAIN; one name in eight in mixed case.

usage: generate.py SERVICES NAMESPACES OUT_DIR [QUERIES [ENDPOINTS]]
"""
import json
import random
import sys


def mixed_case(name, rng):
    return "".join(c.upper() if rng.random() < 0.5 else c for c in name)


def main():
    services, namespaces, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    query_count = int(sys.argv[4]) if len(sys.argv) > 4 else 100_000
    per_service = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    rng = random.Random(42)
    items = [{"kind": "Namespace", "metadata": {"name": f"ns-{n}"}} for n in range(namespaces)]
    a_names, srv_names = [], []
    for i in range(services):
        ns, name = f"ns-{i % namespaces}", f"svc-{i}"
        fqdn = f"{name}.{ns}.svc.cluster.local"
        ports = [{"name": "http", "port": 80, "protocol": "TCP"}]
        if i % 10 == 0:
            items.append({"kind": "Service", "metadata": {"name": name, "namespace": ns},
                          "spec": {"clusterIP": "None", "ports": ports}})
            block = 100 + per_service * (i // 65536)
            endpoints = [{"addresses": [f"10.{block + e}.{(i // 256) % 256}.{i % 256}"],
                          "hostname": f"{name}-{e}", "conditions": {"ready": True}} for e in range(per_service)]
            items.append({"kind": "EndpointSlice", "addressType": "IPv4",
                          "metadata": {"name": f"{name}-x", "namespace": ns,
                                       "labels": {"kubernetes.io/service-name": name}},
                          "ports": ports, "endpoints": endpoints})
        else:
            ip = f"10.{96 + i // 65536}.{(i // 256) % 256}.{i % 256}"
            items.append({"kind": "Service", "metadata": {"name": name, "namespace": ns},
                          "spec": {"clusterIP": ip, "ports": ports}})
        a_names.append(fqdn)
        srv_names.append(f"_http._tcp.{fqdn}")
    with open(f"{out}/cluster.json", "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": items}, f)

    with open(f"{out}/queries.txt", "w") as f:
        for q in range(query_count):
            roll = rng.random()
            i = rng.randrange(services)
            if roll < 0.70:
                name, qtype = a_names[i], "A"
            elif roll < 0.85:
                name, qtype = srv_names[i], "SRV"
            elif roll < 0.95:
                name, qtype = a_names[i], "AAAA"
            else:
                name, qtype = f"missing-{i}.ns-{i % namespaces}.svc.cluster.local", "A"
            if q % 8 == 0:
                name = mixed_case(name, rng)
            f.write(f"{name} {qtype}\n")


if __name__ == "__main__":
    main()
