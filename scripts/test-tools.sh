#!/usr/bin/env bash
# Debian tools the test suite uses besides the kube-apiserver: Graphviz (floe-secrets access-map --svg)
# and zsh (floe-secrets completion zsh is loaded into a real zsh).
set -euo pipefail
missing=()
command -v dot >/dev/null || missing+=(graphviz)
command -v zsh >/dev/null || missing+=(zsh)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "[test-tools.sh] installing Debian packages ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then run=(); elif command -v sudo >/dev/null; then run=(sudo); else
  echo "[test-tools.sh] error: need root to apt-get install ${missing[*]}" >&2; exit 1
fi
"${run[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${run[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
