#!/usr/bin/env bash
# Installs what is missing, builds, and serves the demo cluster
# (deploy/demo/cluster.yaml) on 127.0.0.1:5353 until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-packages.sh
swift build --product kube-dns
cat <<'TRY'
Serving deploy/demo/cluster.yaml on 127.0.0.1:5353. Try, from another shell:
  dig @127.0.0.1 -p 5353 kubernetes.default.svc.cluster.local
  dig @127.0.0.1 -p 5353 postgres.data.svc.cluster.local
  dig @127.0.0.1 -p 5353 _postgres._tcp.postgres.data.svc.cluster.local SRV
  dig @127.0.0.1 -p 5353 postgres-0.postgres.data.svc.cluster.local
  dig @127.0.0.1 -p 5353 frontend.shop.svc.cluster.local AAAA
  dig @127.0.0.1 -p 5353 payments.shop.svc.cluster.local
  dig @127.0.0.1 -p 5353 10-1-1-5.shop.pod.cluster.local
  dig @127.0.0.1 -p 5353 -x 10.0.0.10
  dig @127.0.0.1 -p 5353 nosuch.default.svc.cluster.local
Edit deploy/demo/cluster.yaml and the answers follow. Ctrl-C stops it.
TRY
exec .build/debug/kube-dns --kube-objects deploy/demo/cluster.yaml \
  --dns-bind-address 127.0.0.1 --dns-port 5353 --lameduck 0 -v 2
