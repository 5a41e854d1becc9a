#!/usr/bin/env bash
# A small "cluster" on one Linux machine: N hosts as network namespaces, each with its own address on
# a bridge and its own ssh daemon, so that `mpirun --hostfile` starts ranks on the other "hosts" over
# ssh and the ranks talk over TCP — the same path a real multi-host job takes. mpirun itself runs in
# a "login node" namespace (dclogin, 10.77.0.10). Needs root, iproute2 and openssh-server.
#
# Every namespace sets net.ipv4.tcp_retries2 = 5 (the kernel default, 15, retransmits for ~15 min):
# Open MPI 4's mpirun waits for the daemon of a host whose link is gone until TCP gives up, so this
# bounds how long the job takes to end after the ranks' --collective-timeout has fired. On a real
# cluster the same setting (or a shorter scheduler time limit) plays that role.
#   Launch/netns-cluster.sh up [N=3]     create dchost1..N (10.77.0.11…) and write the hostfile
#   Launch/netns-cluster.sh run ARGS...  mpirun ARGS over the hosts (the options below are added)
#   Launch/netns-cluster.sh cut I        take host I's link down (a host lost mid-run)
#   Launch/netns-cluster.sh shape RATE [BURST=256kb]
#                                        every host's link sends at most RATE (tc tbf, e.g. 1gbit: the
#                                        network is then the bottleneck; `shape off` lifts it); BURST
#                                        bytes may leave at line rate after the link was idle
#   Launch/netns-cluster.sh down         stop the daemons and remove everything
# State (keys, sshd configs, hostfile) lives in ${DC_NETNS_DIR:-/run/deepcluster-netns}, a folder
# that `up` creates itself (mode 700; it refuses one that exists) and that the other commands use only
# while it is root's and private: root's ssh keys and the pid files that `down` kills by must not
# come from a folder another user could have made first.
set -euo pipefail
state=${DC_NETNS_DIR:-/run/deepcluster-netns}
bridge=dcbr0
net=10.77.0
slots=${DC_NETNS_SLOTS:-1}

up() {
  local n=${1:-3}
  command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || { echo "netns-cluster: install openssh-server" >&2; exit 1; }
  down quiet
  mkdir -p /run/sshd
  mkdir -m 700 "$state" || { echo "netns-cluster: $state exists and was not made by this script; not using it" >&2; exit 1; }
  ssh-keygen -q -t ed25519 -N "" -f "$state/id_ed25519" <<<y >/dev/null
  ssh-keygen -q -t ed25519 -N "" -f "$state/host_ed25519" <<<y >/dev/null
  cp "$state/id_ed25519.pub" "$state/authorized_keys"
  cat > "$state/ssh_config" <<CFG
Host $net.*
  User root
  IdentityFile $state/id_ed25519
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
  ConnectTimeout 5
  ServerAliveInterval 5
  ServerAliveCountMax 3
CFG
  ip link add "$bridge" type bridge
  ip addr add "$net.1/24" dev "$bridge"
  ip link set "$bridge" up
  : > "$state/hostfile"
  for i in $(seq 0 "$n"); do
    local ns=dchost$i addr=$net.$((10 + i))
    [ "$i" -eq 0 ] && ns=dclogin
    ip netns add "$ns"
    ip link add "dcv$i" type veth peer name eth0 netns "$ns"
    ip link set "dcv$i" master "$bridge" up
    ip -n "$ns" addr add "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    ip -n "$ns" route add default via "$net.1"
    ip netns exec "$ns" sysctl -q -w net.ipv4.tcp_retries2=5
    [ "$i" -eq 0 ] && continue
    cat > "$state/sshd_$i.conf" <<CFG
ListenAddress $addr
HostKey $state/host_ed25519
AuthorizedKeysFile $state/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
UsePAM no
StrictModes yes
PidFile $state/sshd_$i.pid
ClientAliveInterval 5
ClientAliveCountMax 3
CFG
    # Its own UTS namespace gives each host its own hostname, as Open MPI expects of separate nodes.
    ip netns exec "$ns" unshare --uts sh -c "hostname $ns && exec /usr/sbin/sshd -f $state/sshd_$i.conf"
    echo "$addr slots=$slots" >> "$state/hostfile"
  done
  for i in $(seq 1 "$n"); do
    for _ in $(seq 50); do ssh -F "$state/ssh_config" "$net.$((10 + i))" true 2>/dev/null && break; sleep 0.2; done
    ssh -F "$state/ssh_config" "$net.$((10 + i))" hostname
  done
  echo "netns-cluster: $n hosts up; hostfile $state/hostfile"
}

# True when $state is a folder of root's that no one else can write or read.
private_state() { [ -d "$state" ] && [ ! -L "$state" ] && [ "$(stat -c %u:%a "$state")" = "0:700" ]; }

run() {
  [ -f "$state/hostfile" ] || { echo "netns-cluster: not up" >&2; exit 1; }
  private_state || { echo "netns-cluster: $state is not root's private folder; not using it" >&2; exit 1; }
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  # ssh with this cluster's key; TCP (out-of-band and MPI traffic) only on the bridge's subnet.
  # TCP keepalive on mpirun's links to its daemons (default: first probe after 300 s idle, 9 probes
  # 20 s apart): without it, mpirun waits many minutes for a daemon on a host whose link is gone.
  exec ip netns exec dclogin mpirun --hostfile "$state/hostfile" --mca plm_rsh_agent "ssh -F $state/ssh_config" \
    --mca oob_tcp_if_include "$net.0/24" --mca btl_tcp_if_include "$net.0/24" --mca btl self,vader,tcp \
    --mca oob_tcp_keepalive_time 10 --mca oob_tcp_keepalive_intvl 5 --mca oob_tcp_keepalive_probes 3 \
    --bind-to none "$@"
}

cut() { ip link set "dcv$1" down; echo "netns-cluster: dchost$1 cut off"; }

# Each host's eth0 egress through a token bucket: a host sends at most RATE. (tc's netem, which would
# add a delay, is not in every kernel: not in this machine's.)
shape() {
  local i=1
  while ip netns list | grep -q "^dchost$i\b"; do
    if [ "$1" = off ]; then ip netns exec "dchost$i" tc qdisc del dev eth0 root 2>/dev/null || true
    else ip netns exec "dchost$i" tc qdisc replace dev eth0 root tbf rate "$1" burst "${2:-256kb}" latency 200ms; fi
    i=$((i + 1))
  done
  echo "netns-cluster: links of dchost1..$((i - 1)): ${1/off/unshaped}"
}

down() {
  if private_state; then
    for pid in "$state"/sshd_*.pid; do [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true; done
  fi
  for ns in $(ip netns list 2>/dev/null | awk '/^dchost|^dclogin/ {print $1}'); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns"
  done
  ip link del "$bridge" 2>/dev/null || true
  rm -rf "$state"
  [ "${1:-}" = quiet ] || echo "netns-cluster: down"
}

case "${1:-}" in
  up) shift; up "$@" ;;
  run) shift; run "$@" ;;
  cut) shift; cut "$@" ;;
  shape) shift; shape "$@" ;;
  down) shift; down "$@" ;;
  *) sed -n '2,22p' "$0"; exit 2 ;;
esac
