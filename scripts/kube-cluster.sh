#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# A single-node Kubernetes 1.20 cluster that runs real pods, for integration tests. Needs root.
#
#   scripts/kube-cluster.sh provision   install Debian packages, build (or reuse) kube-apiserver,
#                                        kubelet, kube-controller-manager, kube-scheduler and the
#                                        local images; all cached in $FLOE_KUBE_CACHE
#   scripts/kube-cluster.sh start DIR   provision, then start the cluster; returns once the node
#                                        is Ready. Writes DIR/kubeconfig (cluster admin, for the
#                                        host), DIR/env, DIR/tokens.csv, pid files and logs
#   scripts/kube-cluster.sh stop DIR    delete every workload, stop everything, undo every change
#                                        to the host and remove DIR (idempotent; also cleans up
#                                        after a start that failed half-way)
#
# Layout. Everything of the cluster lives in a network namespace of its own, floe-kube-<hash of
# DIR>: etcd and kube-apiserver (0.0.0.0:443 there), controller-manager, scheduler, containerd,
# the kubelet, the bridge floe0 (10.244.0.1/24, also the node IP) and the pods on it. The host
# namespace gets no address, route, link or iptables rule. The host reaches the apiserver through
# a loopback port forward: lib/netns-forward.py listens on 127.0.0.1:<free port> in the host
# namespace and relays each connection to 127.0.0.1:443 inside the namespace. (A veth would need
# an address or a route in the host namespace; an apiserver on the host's loopback could not reach
# the kubelet for `kubectl logs`, nor could pods reach it.) Pods reach the apiserver as in-cluster
# clients do, at the `kubernetes` Service IP 10.96.0.1:443, which is an address on the namespace's
# loopback (there is no kube-proxy) and is in the serving certificate.
#
# TLS: one CA per cluster (DIR/certs/ca.crt) signs the apiserver's serving certificate
# (127.0.0.1, 10.244.0.1, 10.96.0.1, kubernetes.default.svc...), the kubelet's serving certificate
# and the apiserver's client certificate for the kubelet. The kubelet authenticates and authorizes
# its API callers by webhook (TokenReview / SubjectAccessReview) and that client certificate;
# anonymous access to it is off.
#
# Host state changed while a cluster runs, and restored by stop: the kubelet sets vm.overcommit_memory,
# vm.panic_on_oom, kernel.panic and kernel.panic_on_oops (kernel-wide; saved before the first
# cluster starts, restored when the last one stops); cgroups /floe-kube-<hash> in every hierarchy;
# the node's mount namespace, kept by a bind mount on DIR/mnt.ns (see make_mount_ns). The
# pods' mounts are in that mount namespace, not in the host's.
#
# Provisioning from nothing on 2 cores (source download, one `make` for all four binaries, images)
# took 5.7 min on an otherwise idle machine; other builds running at the same time make it far
# longer. After kube-apiserver.sh's build, the other three take about 2 min (lib/kube-build.sh
# keeps the generated code and Go cache). Images: a few seconds.
set -euo pipefail

# shellcheck disable=SC2034 # the log prefix of lib/kube-build.sh
KB_TAG=kube-cluster.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/kube-build.sh
. "$HERE/lib/kube-build.sh"
# shellcheck source=lib/kube-images.sh
. "$HERE/lib/kube-images.sh"

NODE=floe-node
BRIDGE=floe0
NODE_IP=10.244.0.1
POD_SUBNET=10.244.0.0/24
SERVICE_RANGE=10.96.0.0/24
SERVICE_IP=10.96.0.1
API_PORT=443
# Seconds `start` waits for each stage (apiserver ready, node Ready).
START_TIMEOUT="${FLOE_KUBE_START_TIMEOUT:-120}"
# The sysctls the kubelet (and the CNI bridge plugin, in the cluster's namespace only) may change.
SYSCTLS=(net.ipv4.ip_forward vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes)
SYSCTL_SAVED=/run/floe-kube-sysctl.saved

# Names derived from DIR alone, so that stop finds everything even when DIR is incomplete.
set_names() {
  DIR=$(realpath -m "$1")
  ID=$(printf '%s' "$DIR" | sha256sum | cut -c1-10)
  NS="floe-kube-$ID"
  CGROUP="floe-kube-$ID"
  CNI_NET="floe-kube-$ID"
  SOCK="$DIR/containerd/containerd.sock"
  MNTNS="$DIR/mnt.ns"
}

in_ns() { nsenter --net="/run/netns/$NS" -- "$@"; }

# spawn NAME CMD...: start CMD in the network namespace, output to DIR/NAME.log, pid to DIR/NAME.pid.
spawn() {
  local name=$1
  shift
  # nsenter execs the program: $! is the program's pid.
  nsenter --net="/run/netns/$NS" -- "$@" </dev/null >"$DIR/$name.log" 2>&1 &
  echo $! >"$DIR/$name.pid"
}

# spawn_node NAME CMD...: like spawn, and in the node's mount namespace too (containerd, kubelet).
spawn_node() {
  local name=$1
  shift
  nsenter --net="/run/netns/$NS" --mount="$MNTNS" -- "$@" </dev/null >"$DIR/$name.log" 2>&1 &
  echo $! >"$DIR/$name.pid"
}

# The node's mount namespace (a slave of the host's, kept by a bind mount on DIR/mnt.ns): the
# kubelet's and containerd's mounts (volumes, rootfs, shm) stay in it and go away with it. In it
# /var/log is DIR/var-log and /var/lib is DIR/var-lib, because the kubelet and libcni have paths
# there built in (/var/log/pods, /var/lib/kubelet/device-plugins, /var/lib/cni): they stay out of
# the host's directories and apart from another cluster's.
make_mount_ns() {
  mkdir -p "$DIR/var-log" "$DIR/var-lib"
  : >"$MNTNS"
  # shellcheck disable=SC2016 # $1 is the inner shell's
  unshare --mount="$MNTNS" --propagation slave -- \
    sh -c 'mount --bind "$1/var-log" /var/log && mount --bind "$1/var-lib" /var/lib' sh "$DIR" ||
    die "could not make the node's mount namespace at $MNTNS (DIR must not be on a shared mount)"
}

# pid_of NAME PROGRAM: the pid in DIR/NAME.pid if that process still runs PROGRAM (the base name
# of its argv[0], or of argv[1] for a script run by an interpreter).
pid_of() {
  local f="$DIR/$1.pid" pid argv
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  mapfile -t -d '' -n 2 argv <"/proc/$pid/cmdline" 2>/dev/null || return 1
  local arg0="${argv[0]:-}" arg1="${argv[1]:-}"
  [ -n "$arg0" ] || return 1
  case "$2" in "${arg0##*/}" | "${arg1##*/}") ;; *) return 1 ;; esac
  echo "$pid"
}

# Program names as they appear in each process's command line (checked before any kill).
declare -A PROG=([etcd]=etcd [apiserver]=kube-apiserver [forward]=netns-forward.py [containerd]=containerd
  [controller-manager]=kube-controller-manager [scheduler]=kube-scheduler [kubelet]=kubelet)

alive() { pid_of "$1" "${PROG[$1]}" >/dev/null; }

# fail STAGE COMPONENT: the error for a start that failed, with the log to read.
fail() {
  local log="$DIR/$2.log"
  [ -f "$log" ] && { log "last lines of $log:"; tail -n 15 "$log" >&2; }
  die "$1 (read $log; clean up with: $0 stop $DIR)"
}

provision() {
  kb_apt_install etcd-server containerd runc containernetworking-plugins busybox-static gcc libc6-dev \
    iproute2 util-linux openssl python3 curl
  kb_provision_kubectl
  kb_build kube-apiserver kubelet kube-controller-manager kube-scheduler
  ki_provision
}

# Serializes the sysctl bookkeeping of clusters started or stopped at the same time.
with_lock() { (flock 9; "$@") 9</run; }

save_sysctls() {
  [ -f "$SYSCTL_SAVED" ] && return 0
  local s
  for s in "${SYSCTLS[@]}"; do printf '%s=%s\n' "$s" "$(sysctl -n "$s")"; done >"$SYSCTL_SAVED.tmp"
  mv "$SYSCTL_SAVED.tmp" "$SYSCTL_SAVED"
}

# Saves the kernel settings (when no other cluster has) and adds this cluster's namespace: one step
# under with_lock, so that restore_sysctls of a cluster stopping meanwhile sees the namespace.
claim_host() {
  save_sysctls
  ip netns add "$NS"
}

# Put the sysctls back once no cluster namespace is left.
restore_sysctls() {
  [ -f "$SYSCTL_SAVED" ] || return 0
  compgen -G '/run/netns/floe-kube-*' >/dev/null && return 0
  local line
  while IFS= read -r line; do
    [ "$(sysctl -n "${line%%=*}")" = "${line#*=}" ] || sysctl -q -w "$line" >/dev/null || log "could not restore $line"
  done <"$SYSCTL_SAVED"
  rm -f "$SYSCTL_SAVED"
}

cgroup_mounts() { awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/mounts; }

make_cgroups() {
  local m
  for m in $(cgroup_mounts); do
    mkdir -p "$m/$CGROUP"
    if [ -f "$m/cpuset.cpus" ]; then
      [ -n "$(cat "$m/$CGROUP/cpuset.cpus")" ] || cat "$m/cpuset.cpus" >"$m/$CGROUP/cpuset.cpus"
      [ -n "$(cat "$m/$CGROUP/cpuset.mems")" ] || cat "$m/cpuset.mems" >"$m/$CGROUP/cpuset.mems"
    fi
  done
}

# ---- certificates and credentials ------------------------------------------------------------

# sign NAME SUBJECT EXTENSIONS: an EC key and a certificate signed by the cluster CA, 30 days.
sign() {
  local c="$DIR/certs"
  openssl ecparam -name prime256v1 -genkey -noout -out "$c/$1.key" 2>/dev/null
  openssl req -new -key "$c/$1.key" -subj "$2" 2>/dev/null |
    openssl x509 -req -CA "$c/ca.crt" -CAkey "$c/ca.key" -set_serial "0x$(openssl rand -hex 12)" -days 30 \
      -extfile <(printf '%s\n' "$3") -out "$c/$1.crt" 2>/dev/null || die "could not sign $1 with openssl"
}

make_credentials() {
  local c="$DIR/certs"
  mkdir -p "$c"
  openssl ecparam -name prime256v1 -genkey -noout -out "$c/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$c/ca.key" -subj "/CN=floe-test-ca-$ID" -days 30 -out "$c/ca.crt" \
    -addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null || die "could not make the CA with openssl"
  sign apiserver-serving "/CN=kube-apiserver" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:$NODE_IP,IP:$SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  # The served chain: leaf then CA (a client that trusts this file trusts the CA in it).
  cat "$c/apiserver-serving.crt" "$c/ca.crt" >"$c/apiserver.crt"
  mv "$c/apiserver-serving.key" "$c/apiserver.key"
  rm -f "$c/apiserver-serving.crt"
  sign kubelet "/CN=$NODE" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:$NODE_IP,DNS:$NODE"
  # The apiserver's identity towards the kubelet (logs, exec, port-forward).
  sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"

  openssl genrsa -out "$DIR/sa.key" 2048 2>/dev/null
  openssl rsa -in "$DIR/sa.key" -pubout -out "$DIR/sa.pub" 2>/dev/null

  # Static tokens: the cluster admin first (as in kube-apiserver.sh), a user with no RBAC bindings,
  # then the node and control-plane components.
  ADMIN_TOKEN=$(openssl rand -hex 24)
  local node_token cm_token sched_token
  node_token=$(openssl rand -hex 24); cm_token=$(openssl rand -hex 24); sched_token=$(openssl rand -hex 24)
  {
    printf '%s,floe-admin,floe-admin,"system:masters"\n' "$ADMIN_TOKEN"
    printf '%s,floe-nobody,floe-nobody\n' "$(openssl rand -hex 24)"
    printf '%s,system:node:%s,system:node:%s,"system:nodes"\n' "$node_token" "$NODE" "$NODE"
    printf '%s,system:kube-controller-manager,system:kube-controller-manager\n' "$cm_token"
    printf '%s,system:kube-scheduler,system:kube-scheduler\n' "$sched_token"
  } >"$DIR/tokens.csv"

  mkdir -p "$DIR/kubeconfigs"
  kubeconfig "$DIR/kubeconfigs/admin.kubeconfig" "https://127.0.0.1:$API_PORT" floe-admin "$ADMIN_TOKEN"
  kubeconfig "$DIR/kubeconfigs/kubelet.kubeconfig" "https://127.0.0.1:$API_PORT" "system:node:$NODE" "$node_token"
  kubeconfig "$DIR/kubeconfigs/controller-manager.kubeconfig" "https://127.0.0.1:$API_PORT" \
    system:kube-controller-manager "$cm_token"
  kubeconfig "$DIR/kubeconfigs/scheduler.kubeconfig" "https://127.0.0.1:$API_PORT" system:kube-scheduler "$sched_token"
  chmod 600 "$DIR/tokens.csv" "$DIR"/kubeconfigs/* "$DIR/certs"/*.key "$DIR/sa.key"
}

# kubeconfig FILE SERVER USER TOKEN
kubeconfig() {
  cat >"$1" <<KCFG
apiVersion: v1
kind: Config
clusters:
- name: floe-test
  cluster: {server: "$2", certificate-authority-data: "$(base64 -w0 <"$DIR/certs/ca.crt")"}
users:
- name: "$3"
  user: {token: "$4"}
contexts:
- name: floe-test
  context: {cluster: floe-test, user: "$3"}
current-context: floe-test
KCFG
}

# ---- containerd, CNI and the kubelet ---------------------------------------------------------

write_containerd_config() {
  local c="$DIR/containerd"
  mkdir -p "$c/root" "$c/state" "$c/opt" "$c/runc" "$DIR/cni/net.d" "$DIR/cni/ipam"
  cat >"$c/config.toml" <<TOML
version = 2
root = "$c/root"
state = "$c/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$c/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$KI_PAUSE_REF"
  # Root here lacks CAP_SYS_RESOURCE: without this, runc fails on oom_score_adj -998 for pause.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$c/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$DIR/cni/net.d"
    max_conf_num = 1
TOML
  # Without a CNI config the node stays NotReady, even for hostNetwork pods.
  cat >"$DIR/cni/net.d/10-floe.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "$CNI_NET",
  "plugins": [{
    "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
    "ipam": {
      "type": "host-local", "dataDir": "$DIR/cni/ipam",
      "ranges": [[{"subnet": "$POD_SUBNET", "gateway": "$NODE_IP"}]],
      "routes": [{"dst": "0.0.0.0/0"}]
    }
  }]
}
JSON
}

write_kubelet_config() {
  mkdir -p "$DIR/kubelet" "$DIR/kubelet-volume-plugins"
  cat >"$DIR/kubelet-config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $DIR/certs/kubelet.crt
tlsPrivateKeyFile: $DIR/certs/kubelet.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true, cacheTTL: 10s}
  x509: {clientCAFile: $DIR/certs/ca.crt}
authorization:
  mode: Webhook
  webhook: {cacheAuthorizedTTL: 10s, cacheUnauthorizedTTL: 10s}
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP
failSwapOn: false
# Otherwise the kubelet adds KUBE-FIREWALL rules to iptables.
makeIPTablesUtilChains: false
# A changed Secret reaches its mounted files within about 15 s (the default 1m: over a minute).
syncFrequency: 10s
nodeStatusUpdateFrequency: 2s
clusterDomain: cluster.local
volumePluginDir: $DIR/kubelet-volume-plugins
serializeImagePulls: false
evictionHard: {memory.available: 1Mi, nodefs.available: 1%, nodefs.inodesFree: 1%, imagefs.available: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
YAML
}

# ---- start -----------------------------------------------------------------------------------

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# The first component that was started and is no longer running.
dead_component() {
  local name
  for name in etcd apiserver forward containerd controller-manager scheduler kubelet; do
    [ -f "$DIR/$name.pid" ] && ! alive "$name" && { echo "$name"; return 0; }
  done
  return 1
}

# wait_for DESC COMPONENT CMD...: poll CMD every 0.25 s until it succeeds; fail when a component
# exits, or when START_TIMEOUT passes (then naming COMPONENT's log).
wait_for() {
  local desc=$1 comp=$2 t0 dead
  shift 2
  t0=$(date +%s)
  until "$@" >/dev/null 2>&1; do
    if dead=$(dead_component); then fail "$dead exited while waiting for $desc" "$dead"; fi
    [ $(($(date +%s) - t0)) -lt "$START_TIMEOUT" ] || fail "timed out after ${START_TIMEOUT}s waiting for $desc" "$comp"
    sleep 0.25
  done
}

# kubectl with its discovery and HTTP caches in DIR (by default they pile up in ~/.kube/cache,
# one directory per apiserver port).
host_kubectl() { "$KUBECTL" --kubeconfig "$DIR/kubeconfig" --cache-dir "$DIR/kubectl-cache" --request-timeout 10s "$@"; }

node_ready() {
  [ "$(host_kubectl get node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

start() {
  [ -n "${1:-}" ] || die "usage: $0 start DIR"
  [ "$(id -u)" -eq 0 ] || die "start needs root (network namespace, mounts, cgroups)"
  set_names "$1"
  if [ -e "/run/netns/$NS" ] || alive etcd 2>/dev/null; then
    die "a cluster for $DIR is already running (or was not stopped): run $0 stop $DIR first"
  fi
  [ ${#SOCK} -lt 100 ] || die "DIR is too long for a unix socket path ($SOCK); use a shorter one"
  local t0 t dead
  t0=$(now)
  # One provision at a time (clusters started together would make the same files).
  mkdir -p "$KUBE_CACHE"
  (flock 8; provision) 8<"$KUBE_CACHE"
  log "provisioned in $(since "$t0")s"
  t=$(now)
  mkdir -p "$DIR"
  chmod 700 "$DIR"
  # Saving the kernel settings and adding the namespace under one lock: a stop of another cluster
  # restores them only when no floe namespace is left, so it cannot run between the two.
  with_lock claim_host

  # The namespace with its loopback (plus the Service IP of the apiserver) and the bridge.
  ip -n "$NS" link set lo up
  ip -n "$NS" addr add "$SERVICE_IP/32" dev lo
  ip -n "$NS" link add "$BRIDGE" type bridge
  ip -n "$NS" addr add "$NODE_IP/24" dev "$BRIDGE"
  ip -n "$NS" link set "$BRIDGE" up
  make_mount_ns
  make_cgroups
  make_credentials
  write_containerd_config
  write_kubelet_config

  spawn etcd etcd --name floe-test --data-dir "$DIR/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster floe-test=http://127.0.0.1:2380 --unsafe-no-fsync
  spawn apiserver "$KUBE_BIN_DIR/kube-apiserver" --etcd-servers http://127.0.0.1:2379 \
    --bind-address 0.0.0.0 --advertise-address "$NODE_IP" --secure-port "$API_PORT" --insecure-port 0 \
    --tls-cert-file "$DIR/certs/apiserver.crt" --tls-private-key-file "$DIR/certs/apiserver.key" \
    --token-auth-file "$DIR/tokens.csv" --authorization-mode Node,RBAC \
    --enable-admission-plugins NamespaceLifecycle,ServiceAccount,NodeRestriction \
    --disable-admission-plugins StorageObjectInUseProtection \
    --service-account-key-file "$DIR/sa.pub" --service-account-signing-key-file "$DIR/sa.key" \
    --service-account-issuer https://kubernetes.default.svc --api-audiences https://kubernetes.default.svc \
    --service-cluster-ip-range "$SERVICE_RANGE" \
    --kubelet-preferred-address-types InternalIP --kubelet-certificate-authority "$DIR/certs/ca.crt" \
    --kubelet-client-certificate "$DIR/certs/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$DIR/certs/apiserver-kubelet-client.key"
  spawn_node containerd containerd --config "$DIR/containerd/config.toml"
  python3 "$HERE/lib/netns-forward.py" "$NS" 127.0.0.1 "$API_PORT" "$DIR/apiserver.port" \
    </dev/null >"$DIR/forward.log" 2>&1 &
  echo $! >"$DIR/forward.pid"

  wait_for "containerd to serve $SOCK" containerd ctr --address "$SOCK" version
  local img
  for img in pause busybox node; do
    in_ns ctr --address "$SOCK" -n k8s.io images import "$KI_DIR/$img.tar" >>"$DIR/images.log" 2>&1 ||
      fail "ctr images import $KI_DIR/$img.tar failed" images
  done
  log "containerd up, images imported in $(since "$t")s"

  wait_for "the port forward to the apiserver" forward test -s "$DIR/apiserver.port"
  local url
  url="https://127.0.0.1:$(cat "$DIR/apiserver.port")"
  kubeconfig "$DIR/kubeconfig" "$url" floe-admin "$ADMIN_TOKEN"
  chmod 600 "$DIR/kubeconfig"
  {
    printf 'FLOE_KUBE_URL=%s\nFLOE_KUBECTL=%s\nFLOE_KUBE_NETNS=%s\nFLOE_KUBE_NODE=%s\n' "$url" "$KUBECTL" "$NS" "$NODE"
    printf 'FLOE_KUBE_BUSYBOX_IMAGE=%s\nFLOE_KUBE_NODE_IMAGE=%s\n' "$KI_BUSYBOX_REF" "$KI_NODE_REF"
  } >"$DIR/env"
  # Through the kubeconfig, so that the admin token is on no command line (ps shows those).
  wait_for "kube-apiserver /readyz at $url" apiserver host_kubectl get --raw /readyz
  log "kube-apiserver ready at $url after $(since "$t0")s"

  mkdir -p "$DIR/certs/controller-manager" "$DIR/certs/scheduler"
  spawn controller-manager "$KUBE_BIN_DIR/kube-controller-manager" \
    --kubeconfig "$DIR/kubeconfigs/controller-manager.kubeconfig" --use-service-account-credentials \
    --service-account-private-key-file "$DIR/sa.key" --root-ca-file "$DIR/certs/ca.crt" \
    --cluster-signing-cert-file "$DIR/certs/ca.crt" --cluster-signing-key-file "$DIR/certs/ca.key" \
    --leader-elect=false --port 0 --bind-address 127.0.0.1 --secure-port 10257 \
    --cert-dir "$DIR/certs/controller-manager" --flex-volume-plugin-dir "$DIR/kubelet-volume-plugins" \
    --controllers '*,-nodeipam,-route,-service,-cloud-node-lifecycle'
  spawn scheduler "$KUBE_BIN_DIR/kube-scheduler" --kubeconfig "$DIR/kubeconfigs/scheduler.kubeconfig" \
    --leader-elect=false --port 0 --bind-address 127.0.0.1 --secure-port 10259 --cert-dir "$DIR/certs/scheduler"
  spawn_node kubelet "$KUBE_BIN_DIR/kubelet" --config "$DIR/kubelet-config.yaml" \
    --kubeconfig "$DIR/kubeconfigs/kubelet.kubeconfig" \
    --container-runtime=remote --container-runtime-endpoint "unix://$SOCK" \
    --hostname-override "$NODE" --node-ip "$NODE_IP" --root-dir "$DIR/kubelet" --cert-dir "$DIR/certs/kubelet"

  wait_for "node $NODE to register" kubelet host_kubectl get node "$NODE"
  wait_for "node $NODE to be Ready" kubelet node_ready
  # The ServiceAccount admission refuses pods until the controller-manager made `default`.
  wait_for "ServiceAccount default/default" controller-manager host_kubectl -n default get serviceaccount default
  if dead=$(dead_component); then fail "$dead exited" "$dead"; fi
  log "node $NODE Ready after $(since "$t0")s (kubeconfig: $DIR/kubeconfig)"
}

# ---- stop ------------------------------------------------------------------------------------

ns_kubectl() {
  in_ns "$KUBECTL" --kubeconfig "$DIR/kubeconfigs/admin.kubeconfig" --cache-dir "$DIR/kubectl-cache" --request-timeout 10s "$@"
}

# running PID: the process exists and is not a zombie (our daemons' parent is init, which may
# reap them late).
running() {
  local st
  st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "${st%% *}" != Z ]
}

# stop_proc NAME: TERM, up to 10 s, then KILL.
stop_proc() {
  local pid i
  pid=$(pid_of "$1" "${PROG[$1]}") || { rm -f "$DIR/$1.pid"; return 0; }
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do running "$pid" || break; sleep 0.1; done
  if running "$pid"; then
    log "$1 did not end within 10 s of SIGTERM; killing it"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$DIR/$1.pid"
  [ -z "${FLOE_KUBE_DEBUG:-}" ] || log "stopped $1 after $(since "$t0")s"
}

delete_workloads() {
  [ -f "$DIR/kubeconfigs/admin.kubeconfig" ] && alive apiserver || return 0
  ns_kubectl get --raw /readyz >/dev/null 2>&1 || return 0
  log "deleting every workload"
  # The controllers first, orphaning their pods (so that no new pod comes and the garbage
  # collector does not delete the pods with their own, long grace period), then every pod with a
  # grace period of 1 s (the kubelet of 1.20 does not shorten a grace period once it began).
  ns_kubectl delete cronjobs,jobs,deployments,statefulsets,daemonsets,replicasets,replicationcontrollers \
    --all --all-namespaces --cascade=false --wait=false >/dev/null 2>&1 || log "could not delete the workloads (continuing)"
  ns_kubectl delete pods --all --all-namespaces --grace-period=1 --wait=false >/dev/null 2>&1 || true
  alive kubelet || return 0
  local i
  for i in $(seq 1 240); do
    [ -z "$(ns_kubectl get pods --all-namespaces -o name 2>/dev/null)" ] && return 0
    alive kubelet || return 0
    # Once no container runs, what the kubelet still does before the pods are gone (about 10 s:
    # unmount volumes, remove cgroups, tear down the pod network) is what the rest of stop does.
    [ "$i" -gt 4 ] && ! tasks_running && { log "no container runs any more"; return 0; }
    # A pod made by a controller before it was deleted.
    [ $((i % 20)) -eq 0 ] && ns_kubectl delete pods --all --all-namespaces --grace-period=1 --wait=false >/dev/null 2>&1
    sleep 0.25
  done
  log "pods still there after 60 s; removing their containers directly"
}

tasks_running() {
  ctr --address "$SOCK" -n k8s.io tasks ls 2>/dev/null | awk 'NR > 1 && $3 != "STOPPED" { found = 1 } END { exit !found }'
}

# Kill and delete whatever containerd still runs, while it is up.
clear_containerd() {
  alive containerd && [ -S "$SOCK" ] || return 0
  local t
  for t in $(in_ns ctr --address "$SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
    in_ns ctr --address "$SOCK" -n k8s.io tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true
  done
  for t in $(in_ns ctr --address "$SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
    in_ns ctr --address "$SOCK" -n k8s.io tasks delete -f "$t" >/dev/null 2>&1 || true
  done
}

# Processes of the cluster that outlived their parents: shims of our containerd (by its socket
# path on their command line) and everything in our cgroups.
kill_leftovers() {
  local p m cmd pids=()
  for p in /proc/[0-9]*; do
    cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
    case "$cmd" in *containerd-shim*" -address $SOCK "*) pids+=("${p#/proc/}") ;; esac
  done
  for m in $(cgroup_mounts); do
    [ -d "$m/$CGROUP" ] || continue
    mapfile -t -O "${#pids[@]}" pids < <(find "$m/$CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null)
  done
  [ -e "/run/netns/$NS" ] && mapfile -t -O "${#pids[@]}" pids < <(ip netns pids "$NS" 2>/dev/null)
  [ ${#pids[@]} -gt 0 ] || return 0
  kill -9 "${pids[@]}" 2>/dev/null || true
  sleep 0.5
}

# unmount_under DIR [RUNNER...]: unmount everything at or under DIR, newest first; with RUNNER
# (nsenter into a mount namespace), in that namespace.
unmount_under() {
  local prefix=$1 mp mps
  shift
  for _ in 1 2 3; do
    # Mount points from mountinfo (octal escapes decoded).
    mapfile -t mps < <("$@" cat /proc/self/mountinfo | awk '{ print $5 }' | tac |
      while IFS= read -r mp; do printf '%b\n' "$mp"; done | awk -v d="$prefix" '$0 == d || index($0, d "/") == 1')
    [ ${#mps[@]} -gt 0 ] || return 0
    for mp in "${mps[@]}"; do "$@" umount "$mp" 2>/dev/null || "$@" umount -l "$mp" 2>/dev/null || true; done
  done
  log "could not unmount everything under $prefix"
}

remove_cgroups() {
  local m
  for m in $(cgroup_mounts); do
    [ -d "$m/$CGROUP" ] || continue
    find "$m/$CGROUP" -depth -type d -exec rmdir {} \; 2>/dev/null || log "could not remove cgroup $m/$CGROUP"
  done
}

stop() {
  [ -n "${1:-}" ] || die "usage: $0 stop DIR"
  [ "$(id -u)" -eq 0 ] || die "stop needs root"
  set_names "$1"
  local t0
  t0=$(now)
  if [ -e "/run/netns/$NS" ]; then
    delete_workloads
    log "workloads gone after $(since "$t0")s"
  fi
  # Both run even when the namespace is gone (a start that failed half-way, or a second stop).
  stop_proc kubelet
  if [ -e "/run/netns/$NS" ]; then clear_containerd; fi
  stop_proc containerd
  stop_proc controller-manager
  stop_proc scheduler
  stop_proc forward
  stop_proc apiserver
  stop_proc etcd
  kill_leftovers
  log "processes stopped after $(since "$t0")s"
  if mountpoint -q "$MNTNS" 2>/dev/null; then
    unmount_under "$DIR" nsenter --mount="$MNTNS" --
    nsenter --mount="$MNTNS" -- umount /var/log /var/lib 2>/dev/null || true
  fi
  unmount_under "$DIR"
  [ -e "/run/netns/$NS" ] && { ip netns del "$NS" || log "could not delete network namespace $NS"; }
  remove_cgroups
  # containerd's shims put their sockets in /run/containerd/s (built in), and remove them on exit.
  rmdir /run/containerd/s /run/containerd 2>/dev/null || true
  # `ip netns add` leaves /run/netns bind-mounted on itself; drop it once no namespace is left.
  if mountpoint -q /run/netns && [ -z "$(ls -A /run/netns)" ]; then umount /run/netns && rmdir /run/netns; fi
  with_lock restore_sysctls
  rm -rf "$DIR"
  log "stopped in $(since "$t0")s"
}

case "${1:-}" in
  provision) provision ;;
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 provision | start DIR | stop DIR" >&2; exit 2 ;;
esac
