#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Provision, start and stop a real kube-apiserver + etcd on loopback for the integration tests.
#
#   scripts/kube-apiserver.sh provision   build kube-apiserver from Debian's `kubernetes` source
#                                          package, unpack the matching kubectl, install etcd-server
#                                          (all cached outside the repo)
#   scripts/kube-apiserver.sh start DIR   start etcd + kube-apiserver with RBAC and static token auth;
#                                          writes DIR/kubeconfig, DIR/env (tokens, URL) and pid files
#   scripts/kube-apiserver.sh stop DIR    stop both and remove DIR
#
# The build (about 5 minutes on 2 cores; scripts/lib/kube-build.sh) is cached in $FLOE_KUBE_CACHE
# (default ~/.cache/floe-secrets/kube) and reused while the binary there answers --version.
set -euo pipefail

# shellcheck disable=SC2034 # the log prefix of lib/kube-build.sh
KB_TAG=kube-apiserver.sh
# shellcheck source=lib/kube-build.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/kube-build.sh"
BIN="$KUBE_BIN_DIR/kube-apiserver"

provision() {
  kb_apt_install etcd-server rsync openssl python3 curl
  kb_provision_kubectl
  kb_build kube-apiserver
  log "cached: $("$BIN" --version)"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start() {
  local dir="${1:?usage: start DIR}"
  kb_have kube-apiserver || die "kube-apiserver is not built; run: $0 provision"
  command -v etcd >/dev/null || die "etcd is not installed; run: $0 provision"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local etcd_port etcd_peer api_port
  etcd_port=$(free_port); etcd_peer=$(free_port); api_port=$(free_port)

  openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
  openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
  local admin_token
  admin_token=$(openssl rand -hex 24)
  # Static tokens: one cluster admin, one user with no RBAC bindings at all.
  printf '%s,floe-admin,floe-admin,"system:masters"\n%s,floe-nobody,floe-nobody\n' \
    "$admin_token" "$(openssl rand -hex 24)" >"$dir/tokens.csv"

  etcd --name floe-test --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-cluster "floe-test=http://127.0.0.1:$etcd_peer" \
    --unsafe-no-fsync >"$dir/etcd.log" 2>&1 &
  echo $! >"$dir/etcd.pid"

  "$BIN" --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --cert-dir "$dir/certs" --insecure-port 0 \
    --token-auth-file "$dir/tokens.csv" --authorization-mode RBAC \
    --service-account-key-file "$dir/sa.pub" --service-account-signing-key-file "$dir/sa.key" \
    --service-account-issuer "https://kubernetes.default.svc" --api-audiences "https://kubernetes.default.svc" \
    --service-cluster-ip-range 10.96.0.0/24 \
    --enable-admission-plugins NamespaceLifecycle,ServiceAccount --disable-admission-plugins StorageObjectInUseProtection \
    >"$dir/apiserver.log" 2>&1 &
  echo $! >"$dir/apiserver.pid"

  local url="https://127.0.0.1:$api_port"
  cat >"$dir/kubeconfig" <<KCFG
apiVersion: v1
kind: Config
clusters:
- name: floe-test
  cluster: {server: "$url", insecure-skip-tls-verify: true}
users:
- name: floe-admin
  user: {token: "$admin_token"}
contexts:
- name: floe-test
  context: {cluster: floe-test, user: floe-admin}
current-context: floe-test
KCFG
  chmod 600 "$dir/kubeconfig" "$dir/tokens.csv"
  printf 'FLOE_KUBE_URL=%s\nFLOE_KUBECTL=%s\n' "$url" "$KUBECTL" >"$dir/env"

  local i
  for i in $(seq 1 120); do
    if curl -ksf -H "Authorization: Bearer $admin_token" "$url/readyz" >/dev/null 2>&1; then
      log "ready at $url"
      return 0
    fi
    kill -0 "$(cat "$dir/apiserver.pid")" 2>/dev/null || { tail -20 "$dir/apiserver.log" >&2; die "kube-apiserver exited"; }
    sleep 0.5
  done
  tail -20 "$dir/apiserver.log" >&2
  die "kube-apiserver not ready after 60 s"
}

stop() {
  local dir="${1:?usage: stop DIR}" f pid
  [ -d "$dir" ] || return 0
  for f in apiserver etcd; do
    [ -f "$dir/$f.pid" ] || continue
    pid=$(cat "$dir/$f.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$dir"
}

case "${1:-}" in
  provision) provision ;;
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 provision | start DIR | stop DIR" >&2; exit 2 ;;
esac
