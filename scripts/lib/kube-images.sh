# shellcheck shell=bash
# Local container images for the test node (no registry is reachable): each is a one-layer
# docker-archive tar (what `docker save` writes) cached in $KUBE_CACHE/images and imported with
# `ctr -n k8s.io images import`. Sourced by scripts/kube-cluster.sh after lib/kube-build.sh.
#
#   busybox.tar  docker.io/library/busybox:1.35   Debian's busybox-static and its applet links, and
#                                                  /bin/floe-probe (scripts/node-images/floe-probe),
#                                                  which reports what a pod received
#   pause.tar    $KI_PAUSE_REF                     build/pause/linux/pause.c of the source tree
#   node.tar     $KI_NODE_REF                      the host's node binary, the libraries ldd lists
#                                                  and the busybox applets (for `sh -c`)
#
# Each tar has a .key file next to it naming what it was made from; a tar whose key differs
# from today's (new recipe, busybox or node upgraded) is made again.

KI_DIR="$KUBE_CACHE/images"
# Bump when the way the images are made changes.
KI_RECIPE=1
KI_BUSYBOX_REF=docker.io/library/busybox:1.35
KI_PAUSE_REF=floe.local/pause:3.4
KI_NODE_BIN=$(command -v node || true)
KI_NODE_MAJOR=$({ [ -n "$KI_NODE_BIN" ] && "$KI_NODE_BIN" -p 'process.versions.node.split(".")[0]'; } 2>/dev/null || echo none)
KI_NODE_REF="floe.local/node:$KI_NODE_MAJOR"
KI_PATH_ENV='PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
KI_PROBE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/node-images/floe-probe"

# ki_pack ROOTFS OUT REF CONFIG: write ROOTFS as a one-layer docker-archive tar tagged REF, with
# CONFIG (JSON) as the image's runtime config. Reproducible: sorted, mtime 0, owner root.
ki_pack() {
  local rootfs=$1 out=$2 ref=$3 config=$4 work layer cfg
  work=$(mktemp -d "$KI_DIR/.pack.XXXXXX")
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$rootfs" -cf "$work/layer.tar" .
  layer=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
  mkdir "$work/$layer"
  mv "$work/layer.tar" "$work/$layer/layer.tar"
  printf '{"architecture":"amd64","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"scripts/kube-cluster.sh"}]}' \
    "$config" "$layer" >"$work/config.json"
  cfg=$(sha256sum "$work/config.json" | cut -d' ' -f1)
  mv "$work/config.json" "$work/$cfg.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$cfg" "$ref" "$layer" >"$work/manifest.json"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work" -cf "$out.part" manifest.json "$cfg.json" "$layer"
  mv "$out.part" "$out"
  rm -rf "$work"
}

# ki_base_rootfs DIR: /etc/passwd, /etc/group, /tmp and the busybox applets.
ki_base_rootfs() {
  local root=$1 app
  mkdir -p "$root"/{bin,etc,proc,sys,dev,run,tmp,var/tmp,root}
  chmod 1777 "$root/tmp" "$root/var/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  install -m 0755 /bin/busybox "$root/bin/busybox"
  for app in $("$root/bin/busybox" --list-full); do
    [ -e "$root/$app" ] || [ -L "$root/$app" ] && continue
    mkdir -p "$root/$(dirname "$app")"
    ln -s /bin/busybox "$root/$app"
  done
}

# ki_fresh NAME KEY: true if $KI_DIR/NAME.tar was made from KEY; otherwise the caller makes it.
ki_fresh() { [ -s "$KI_DIR/$1.tar" ] && [ "$(cat "$KI_DIR/$1.key" 2>/dev/null)" = "$2" ]; }

ki_busybox() {
  local key root
  key="$KI_RECIPE $KI_BUSYBOX_REF $(dpkg-query -W -f '${Version}' busybox-static) probe $(sha256sum <"$KI_PROBE" | cut -c1-64)"
  ki_fresh busybox "$key" && return 0
  root=$(mktemp -d "$KI_DIR/.root.XXXXXX")
  ki_base_rootfs "$root"
  install -m 0755 "$KI_PROBE" "$root/bin/floe-probe"
  ki_pack "$root" "$KI_DIR/busybox.tar" "$KI_BUSYBOX_REF" "{\"Env\":[\"$KI_PATH_ENV\"],\"Cmd\":[\"sh\"]}"
  rm -rf "$root"
  printf '%s' "$key" >"$KI_DIR/busybox.key"
  log "made image $KI_BUSYBOX_REF"
}

ki_pause() {
  local key root src
  src="$(kb_source_tree)/build/pause/linux/pause.c" || exit 1
  key="$KI_RECIPE $KI_PAUSE_REF $(sha256sum "$src" | cut -d' ' -f1) $(gcc -dumpfullversion)"
  ki_fresh pause "$key" && return 0
  root=$(mktemp -d "$KI_DIR/.root.XXXXXX")
  gcc -Os -static -o "$root/pause" "$src" || die "gcc -static $src failed (are gcc and libc6-dev installed?)"
  strip "$root/pause"
  ki_pack "$root" "$KI_DIR/pause.tar" "$KI_PAUSE_REF" '{"Entrypoint":["/pause"]}'
  rm -rf "$root"
  printf '%s' "$key" >"$KI_DIR/pause.key"
  log "made image $KI_PAUSE_REF"
}

ki_node() {
  [ -n "$KI_NODE_BIN" ] || die "no node binary on PATH to make $KI_NODE_REF from"
  local key root real lib
  real=$(readlink -f "$KI_NODE_BIN")
  key="$KI_RECIPE $KI_NODE_REF $("$real" --version) $(stat -c '%s %Y' "$real") $(dpkg-query -W -f '${Version}' busybox-static libc6)"
  ki_fresh node "$key" && return 0
  root=$(mktemp -d "$KI_DIR/.root.XXXXXX")
  ki_base_rootfs "$root"
  mkdir -p "$root/usr/local/bin"
  install -m 0755 "$real" "$root/usr/local/bin/node"
  # `ldd` lines: "libx.so => /path (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)".
  for lib in $(ldd "$real" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  ki_pack "$root" "$KI_DIR/node.tar" "$KI_NODE_REF" "{\"Env\":[\"$KI_PATH_ENV\"],\"Cmd\":[\"node\"]}"
  rm -rf "$root"
  printf '%s' "$key" >"$KI_DIR/node.key"
  log "made image $KI_NODE_REF from $real"
}

# ki_provision: make the missing image tars.
ki_provision() {
  mkdir -p "$KI_DIR"
  rm -rf "$KI_DIR"/.pack.* "$KI_DIR"/.root.*
  ki_busybox
  ki_pause
  ki_node
}
