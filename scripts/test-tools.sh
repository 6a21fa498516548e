#!/usr/bin/env bash
# Debian tools the test suite uses besides the kube-apiserver: Graphviz (floe-secrets access-map --svg).
set -euo pipefail
command -v dot >/dev/null && exit 0
echo "[test-tools.sh] installing Debian package graphviz" >&2
if [ "$(id -u)" -eq 0 ]; then run=(); elif command -v sudo >/dev/null; then run=(sudo); else
  echo "[test-tools.sh] error: need root to apt-get install graphviz" >&2; exit 1
fi
"${run[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${run[@]}" apt-get install -y -qq graphviz >/dev/null
