# shellcheck shell=bash
# Build and cache Kubernetes 1.20 binaries from Debian's `kubernetes` source package.
# Sourced by scripts/kube-apiserver.sh and scripts/kube-cluster.sh; set KB_TAG (the log prefix)
# before sourcing.
#
#   kb_apt_install PKG...      install the Debian packages that are missing (one apt-get run)
#   kb_have NAME               true if $KUBE_BIN_DIR/NAME runs and was built by today's recipe
#   kb_build NAME...           build the missing ones of cmd/NAME... in one `make` (cached)
#   kb_source_tree             print the unpacked source tree, fetching it first if needed
#   kb_provision_kubectl       unpack Debian's kubectl of the same release into the cache
#
# The cache ($FLOE_KUBE_CACHE, default ~/.cache/floe-secrets/kube) holds the source tree with its
# _output (generators, generated code, Go build cache: kept between builds, so building another
# binary later skips code generation) and bin/ with the binaries; each binary has a NAME.recipe
# file next to it, and a binary of an older recipe is rebuilt.

KUBE_CACHE="${FLOE_KUBE_CACHE:-$HOME/.cache/floe-secrets/kube}"
KUBE_BIN_DIR="$KUBE_CACHE/bin"
# Bump when the build recipe changes, so that a cached binary of an older recipe is rebuilt.
KUBE_RECIPE="2: reflect2 1.0.2 from Debian"
KUBECTL="$KUBE_BIN_DIR/kubectl"
KB_REFLECT2_SRC=/usr/share/gocode/src/github.com/modern-go/reflect2

log() { echo "[${KB_TAG:-kube}] $*" >&2; }
die() { log "error: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root to run: $*"
  fi
}

kb_apt_install() {
  local p missing=()
  for p in "$@"; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

kb_have() {
  local bin="$KUBE_BIN_DIR/$1"
  [ -s "$bin" ] && "$bin" --version >/dev/null 2>&1 && [ "$(cat "$bin.recipe" 2>/dev/null)" = "$KUBE_RECIPE" ]
}

kb_have_kubectl() { [ -s "$KUBECTL" ] && "$KUBECTL" version --client >/dev/null 2>&1; }

# kubectl of the same release as the server (Debian's kubernetes-client), unpacked into the cache
# so that it neither needs nor disturbs a system kubectl.
kb_provision_kubectl() {
  kb_have_kubectl && return 0
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq kubernetes-client >/dev/null 2>&1) || { rm -rf "$tmp"; die "apt-get download kubernetes-client failed"; }
  dpkg -x "$tmp"/kubernetes-client_*.deb "$tmp/root"
  mkdir -p "$KUBE_BIN_DIR"
  install -m 0755 "$tmp/root/usr/bin/kubectl" "$KUBECTL"
  rm -rf "$tmp"
  kb_have_kubectl || die "unpacked kubectl does not run"
}

kb_source_tree() {
  local src
  mkdir -p "$KUBE_CACHE/src"
  src=$(find "$KUBE_CACHE/src" -maxdepth 1 -type d -name 'kubernetes-*' | head -n 1)
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
    (cd "$KUBE_CACHE/src" && apt-get source -qq kubernetes >/dev/null 2>&1) || die "apt-get source kubernetes failed"
    src=$(find "$KUBE_CACHE/src" -maxdepth 1 -type d -name 'kubernetes-*' | head -n 1)
  fi
  [ -n "$src" ] || die "no kubernetes source tree under $KUBE_CACHE/src"
  printf '%s\n' "$src"
}

# kb_build NAME...: build cmd/NAME for each NAME that is not cached yet, all in one `make` (code
# generation then runs once). Output goes to $KUBE_CACHE/build.log.
kb_build() {
  local name todo=()
  for name in "$@"; do kb_have "$name" || todo+=("$name"); done
  [ ${#todo[@]} -gt 0 ] || return 0
  local pkgs=(dpkg-dev rsync golang-github-modern-go-reflect2-dev)
  command -v go >/dev/null || [ -x /usr/lib/go/bin/go ] || pkgs+=(golang-go)
  command -v make >/dev/null || pkgs+=(make)
  kb_apt_install "${pkgs[@]}"
  local src what=()
  src=$(kb_source_tree) || exit 1
  for name in "${todo[@]}"; do what+=("cmd/$name"); done

  # An interrupted or failed build can leave empty generator binaries in _output that break the
  # next one; only then start _output afresh (it also holds the generated code and Go build cache).
  if [ -e "$KUBE_CACHE/build.incomplete" ] || [ -n "$(find "$src/_output/bin" -maxdepth 1 -type f -empty 2>/dev/null)" ]; then
    rm -rf "$src/_output"
  fi
  # Kubernetes 1.20 vendors reflect2 1.0.1, whose map iteration faults under Go >= 1.18
  # (modern-go/reflect2#24): the server then crashes on every custom-resource write. Debian's
  # golang-github-modern-go-reflect2-dev 1.0.2 carries the fix and the same API.
  rsync -a --delete --exclude '*_test.go' --exclude 'go.mod' --exclude 'go.sum' \
    "$KB_REFLECT2_SRC/" "$src/vendor/github.com/modern-go/reflect2/"
  log "building ${todo[*]} from $src (cold on 2 cores: about 6 min for all four when the machine is idle, far longer under load; log: $KUBE_CACHE/build.log)"
  touch "$KUBE_CACHE/build.incomplete"
  (
    cd "$src"
    export GOPATH="$src/.go" CGO_ENABLED=0 PATH="/usr/lib/go/bin:$PATH" GO111MODULE=off GOFLAGS=
    mkdir -p .go/src/k8s.io
    [ -L .go/src/k8s.io/kubernetes ] || ln -s ../../.. .go/src/k8s.io/kubernetes
    make WHAT="${what[*]}" >"$KUBE_CACHE/build.log" 2>&1
  ) || die "build of ${todo[*]} failed; see $KUBE_CACHE/build.log"
  rm -f "$KUBE_CACHE/build.incomplete"
  mkdir -p "$KUBE_BIN_DIR"
  for name in "${todo[@]}"; do
    install -m 0755 "$src/_output/bin/$name" "$KUBE_BIN_DIR/$name"
    printf '%s' "$KUBE_RECIPE" >"$KUBE_BIN_DIR/$name.recipe"
    kb_have "$name" || die "built $name does not run; see $KUBE_CACHE/build.log"
    log "built: $name $("$KUBE_BIN_DIR/$name" --version)"
  done
}
