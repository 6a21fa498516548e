#!/usr/bin/env bash
# Provision, start and stop a real kube-apiserver + etcd on loopback for the integration tests.
#
#   scripts/kube-apiserver.sh provision   build kube-apiserver from Debian's `kubernetes` source
#                                          package, unpack the matching kubectl, install etcd-server
#                                          (all cached outside the repo)
#   scripts/kube-apiserver.sh start DIR   start etcd + kube-apiserver with RBAC and static token auth;
#                                          writes DIR/kubeconfig, DIR/env (tokens, URL) and pid files
#   scripts/kube-apiserver.sh stop DIR    stop both and remove DIR
#
# The build (about 5 minutes on 2 cores) is cached in $FLOE_KUBE_CACHE
# (default ~/.cache/floe-secrets/kube) and reused while the binary there answers --version.
set -euo pipefail

CACHE="${FLOE_KUBE_CACHE:-$HOME/.cache/floe-secrets/kube}"
BIN="$CACHE/bin/kube-apiserver"
# Bump when the build recipe changes, so that a cached binary of an older recipe is rebuilt.
RECIPE="2: reflect2 1.0.2 from Debian"
REFLECT2_SRC=/usr/share/gocode/src/github.com/modern-go/reflect2
KUBECTL="$CACHE/bin/kubectl"

log() { echo "[kube-apiserver.sh] $*" >&2; }
die() { log "error: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root to run: $* (install etcd-server golang-go rsync dpkg-dev openssl yourself)"
  fi
}

have_apiserver() {
  [ -s "$BIN" ] && "$BIN" --version >/dev/null 2>&1 && [ "$(cat "$BIN.recipe" 2>/dev/null)" = "$RECIPE" ]
}
have_kubectl() { [ -s "$KUBECTL" ] && "$KUBECTL" version --client >/dev/null 2>&1; }

# kubectl of the same release as the server (Debian's kubernetes-client), unpacked into the cache
# so that it neither needs nor disturbs a system kubectl.
provision_kubectl() {
  have_kubectl && return 0
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq kubernetes-client >/dev/null 2>&1) || { rm -rf "$tmp"; die "apt-get download kubernetes-client failed"; }
  dpkg -x "$tmp"/kubernetes-client_*.deb "$tmp/root"
  mkdir -p "$CACHE/bin"
  install -m 0755 "$tmp/root/usr/bin/kubectl" "$KUBECTL"
  rm -rf "$tmp"
  have_kubectl || die "unpacked kubectl does not run"
}

provision() {
  local pkgs=()
  command -v etcd >/dev/null || pkgs+=(etcd-server)
  command -v rsync >/dev/null || pkgs+=(rsync)
  command -v openssl >/dev/null || pkgs+=(openssl)
  if ! have_apiserver; then
    command -v go >/dev/null || [ -x /usr/lib/go/bin/go ] || pkgs+=(golang-go)
    command -v dpkg-source >/dev/null || pkgs+=(dpkg-dev)
    [ -f "$REFLECT2_SRC/reflect2.go" ] || pkgs+=(golang-github-modern-go-reflect2-dev)
  fi
  if [ ${#pkgs[@]} -gt 0 ]; then
    log "installing Debian packages: ${pkgs[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${pkgs[@]}" >/dev/null
  fi
  provision_kubectl
  if have_apiserver; then log "cached: $("$BIN" --version)"; return 0; fi

  mkdir -p "$CACHE/src" "$CACHE/bin"
  local src
  src=$(find "$CACHE/src" -maxdepth 1 -type d -name 'kubernetes-*' | head -n 1)
  if [ -z "$src" ]; then
    if ! apt-get source --print-uris kubernetes >/dev/null 2>&1; then
      log "adding a deb-src entry for bookworm (needed by apt-get source kubernetes)"
      as_root tee /etc/apt/sources.list.d/floe-deb-src.sources >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
      as_root apt-get update -qq
    fi
    (cd "$CACHE/src" && apt-get source -qq kubernetes >/dev/null 2>&1) || die "apt-get source kubernetes failed"
    src=$(find "$CACHE/src" -maxdepth 1 -type d -name 'kubernetes-*' | head -n 1)
  fi
  [ -n "$src" ] || die "no kubernetes source tree under $CACHE/src"

  # A failed earlier build leaves empty generator binaries that break the next one.
  rm -rf "$src/_output"
  # Kubernetes 1.20 vendors reflect2 1.0.1, whose map iteration faults under Go >= 1.18
  # (modern-go/reflect2#24): the server then crashes on every custom-resource write. Debian's
  # golang-github-modern-go-reflect2-dev 1.0.2 carries the fix and the same API.
  rsync -a --delete --exclude '*_test.go' --exclude 'go.mod' --exclude 'go.sum' \
    "$REFLECT2_SRC/" "$src/vendor/github.com/modern-go/reflect2/"
  log "building kube-apiserver from $src (about 5 minutes)"
  (
    cd "$src"
    export GOPATH="$src/.go" CGO_ENABLED=0 PATH="/usr/lib/go/bin:$PATH" GO111MODULE=off GOFLAGS=
    mkdir -p .go/src/k8s.io
    [ -L .go/src/k8s.io/kubernetes ] || ln -s ../../.. .go/src/k8s.io/kubernetes
    make WHAT=cmd/kube-apiserver >"$CACHE/build.log" 2>&1
  ) || die "build failed; see $CACHE/build.log"
  install -m 0755 "$src/_output/bin/kube-apiserver" "$BIN"
  printf '%s' "$RECIPE" >"$BIN.recipe"
  have_apiserver || die "built binary does not run; see $CACHE/build.log"
  log "built: $("$BIN" --version)"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start() {
  local dir="${1:?usage: start DIR}"
  have_apiserver || die "kube-apiserver is not built; run: $0 provision"
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
