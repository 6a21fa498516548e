#!/usr/bin/env bash
# Debian tools the test suite uses besides the kube-apiserver: Graphviz (floe-secrets access-map --svg),
# zsh (floe-secrets completion zsh is loaded into a real zsh) and PostgreSQL (the Vault test server's
# database secrets engine creates and drops users in a throwaway cluster the tests start).
set -euo pipefail
missing=()
command -v dot >/dev/null || missing+=(graphviz)
command -v zsh >/dev/null || missing+=(zsh)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || [ -n "${PG_BINDIR:-}" ] || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "[test-tools.sh] installing Debian packages ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then run=(); elif command -v sudo >/dev/null; then run=(sudo); else
  echo "[test-tools.sh] error: need root to apt-get install ${missing[*]}" >&2; exit 1
fi
if [[ " ${missing[*]} " == *" postgresql "* && ! -e /etc/postgresql-common/createcluster.conf ]]; then
  # The tests start their own throwaway cluster: no system-wide "main" cluster on port 5432.
  "${run[@]}" mkdir -p /etc/postgresql-common
  echo 'create_main_cluster = false' | "${run[@]}" tee /etc/postgresql-common/createcluster.conf >/dev/null
fi
"${run[@]}" apt-get update -qq
# confold: the createcluster.conf written above is kept, never asked about.
DEBIAN_FRONTEND=noninteractive "${run[@]}" apt-get install -y -qq -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${missing[@]}" >/dev/null
