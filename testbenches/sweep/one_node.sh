#!/bin/bash
# A real one-node Slurm cluster on loopback, for the tests that submit work through Slurm.
# Everything (config, munge key and socket, state, spool, logs, pid files) lives under DIR;
# nothing in /etc, /run or /var is touched, so several DIRs can be used one after another
# (or side by side: each picks its own free ports and its own munged socket).
#   one_node.sh start DIR   fresh state, start munged, slurmctld and slurmd, wait until the
#                           node is idle (at most 60 s); then `. DIR/env` sets SLURM_CONF
#   one_node.sh stop DIR    cancel jobs, stop the daemons started for DIR; idempotent
# Needs root and the Debian packages slurmctld, slurmd, slurm-client and munge (slurm-wlm
# pulls them all in); it installs nothing and exits 77 (skip) when they are missing.
set -eu
export PATH="$PATH:/usr/sbin:/sbin"

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
die() { echo "one_node: $*" >&2; exit 1; }

[ $# -eq 2 ] || usage
action=$1
case $action in start|stop) ;; *) usage ;; esac

# Absolute path: it is written into slurm.conf and the pid files are found through it.
[ "$action" = stop ] && [ ! -d "$2" ] && exit 0
mkdir -p "$2"
dir=$(cd "$2" && pwd -P)
conf=$dir/etc/slurm.conf

# --- process helpers -------------------------------------------------------------------

# alive PID: the process exists and is not a zombie waiting to be reaped.
alive() {
    local state
    [ -r "/proc/$1/stat" ] || return 1
    state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# pid_of FILE: the pid in FILE if that process is alive.
pid_of() {
    local pid
    [ -s "$1" ] || return 1
    pid=$(tr -dc 0-9 <"$1")
    [ -n "$pid" ] && alive "$pid" && echo "$pid"
}

# stragglers: slurmstepd processes of this DIR (they outlive slurmd, and slurmctld cannot
# cancel their jobs once it is gone) and all their descendants (the job tasks). A
# slurmstepd belongs to DIR when it holds a file under DIR open (slurmd.log) or runs in it;
# its environment cannot tell, since it overwrites that for its process title.
stragglers() {
    local p f found="" ppid changed=1
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = slurmstepd ] || continue
        for f in "/proc/$p/cwd" "/proc/$p"/fd/*; do
            case "$(readlink "$f" 2>/dev/null)" in
                "$dir"/*) found="$found $p"; break ;;
            esac
        done
    done
    [ -n "$found" ] || return 0
    while [ $changed -eq 1 ]; do          # close the set under "child of"
        changed=0
        for p in /proc/[0-9]*; do
            p=${p#/proc/}
            case " $found " in *" $p "*) continue ;; esac
            ppid=$(sed 's/^.*) . \([0-9]*\).*$/\1/' "/proc/$p/stat" 2>/dev/null) || continue
            [ -n "$ppid" ] || continue
            case " $found " in *" $ppid "*) found="$found $p"; changed=1 ;; esac
        done
    done
    for p in $found; do alive "$p" && echo "$p"; done
    return 0
}

# terminate PID...: SIGTERM, wait up to 10 s, then SIGKILL what is left.
terminate() {
    local pid left i
    [ $# -gt 0 ] || return 0
    kill "$@" 2>/dev/null || true
    for i in $(seq 50); do
        left=""
        for pid in "$@"; do alive "$pid" && left="$left $pid"; done
        [ -n "$left" ] || return 0
        sleep 0.2
    done
    # shellcheck disable=SC2086
    kill -9 $left 2>/dev/null || true
    sleep 0.2
}

stop_cluster() {
    local pid jobs i
    # Cancel whatever is still queued or running while slurmctld can still do it cleanly.
    if pid_of "$dir/state/slurmctld.pid" >/dev/null && [ -f "$conf" ]; then
        jobs=$(SLURM_CONF=$conf squeue -h -o %A 2>/dev/null || true)
        if [ -n "$jobs" ]; then
            # shellcheck disable=SC2086
            SLURM_CONF=$conf scancel $jobs 2>/dev/null || true
            for i in $(seq 25); do
                [ -z "$(SLURM_CONF=$conf squeue -h -o %A 2>/dev/null)" ] && break
                sleep 0.2
            done
        fi
    fi
    for f in spool/slurmd.pid state/slurmctld.pid; do
        pid=$(pid_of "$dir/$f") && terminate "$pid"
    done
    # slurmstepd ignores SIGTERM; these are orphans of a stopped cluster anyway
    # shellcheck disable=SC2046
    kill -9 $(stragglers) 2>/dev/null || true
    pid=$(pid_of "$dir/munge/munged.pid") && terminate "$pid"
    rm -f "$dir/spool/slurmd.pid" "$dir/state/slurmctld.pid" "$dir/munge/munged.pid"
    return 0
}

if [ "$action" = stop ]; then
    stop_cluster
    exit 0
fi

# --- start -----------------------------------------------------------------------------

missing=""
for c in slurmctld slurmd munged sbatch srun squeue sinfo scancel; do
    command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
if [ -n "$missing" ]; then
    echo "one_node: skipped, missing:$missing (Debian: apt-get install slurm-wlm munge)" >&2
    exit 77
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "one_node: skipped, needs root (SlurmUser=root, SlurmdUser=root)" >&2
    exit 77
fi

stop_cluster  # a previous run in the same DIR
rm -rf "${dir:?}/etc" "$dir/state" "$dir/spool" "$dir/log" "$dir/munge" "$dir/env"
mkdir -p "$dir/etc" "$dir/state" "$dir/spool" "$dir/log" "$dir/munge"
# munged checks the permissions of every directory on the way to its key, socket, log and
# pid file: none may be group/world writable (unless sticky, like /tmp), and the socket's
# directory must be searchable by everyone. The key must be readable by its owner only.
chmod 755 "$dir" "$dir/munge"
chmod 700 "$dir/state" "$dir/spool"

key=$dir/munge/munge.key
socket=$dir/munge/munge.socket.2
if command -v mungekey >/dev/null 2>&1; then
    mungekey -c -k "$key"
else
    dd if=/dev/urandom of="$key" bs=1 count=1024 2>/dev/null
fi
chmod 600 "$key"

# --force: DIR's ancestors (a build tree made with umask 002, say) may be group writable,
# which munged otherwise refuses; with it, those become warnings in its log.
munged --force \
    --socket="$socket" --key-file="$key" --pid-file="$dir/munge/munged.pid" \
    --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" \
    || { tail -n 20 "$dir/munge/munged.log" >&2 2>/dev/null; die "munged did not start"; }

# free_port: a TCP port that nothing uses (listening or connected) on this machine, below
# the kernel's ephemeral range so outgoing connections will not take it meanwhile.
used_ports() {
    # 2nd column of /proc/net/tcp{,6} is ADDR:PORT, the port in hex
    awk 'FNR > 1 { split($2, a, ":"); print a[length(a)] }' /proc/net/tcp /proc/net/tcp6 \
        2>/dev/null | while read -r hex; do echo $((16#$hex)); done
}
taken=" $(used_ports | tr '\n' ' ') "
free_port() {
    local port i
    for i in $(seq 200); do
        port=$((10000 + (RANDOM * 32768 + RANDOM) % 20000))
        case "$taken" in *" $port "*) continue ;; esac
        # a connection that succeeds means someone listens there
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
        taken="$taken$port "
        echo "$port"
        return 0
    done
    die "no free TCP port found"
}
ctld_port=$(free_port)
taken="$taken$ctld_port "
slurmd_port=$(free_port)

node=$(hostname -s)
cpus=$(nproc)
# slurmd drains a node whose configured memory exceeds what it measures: claim half.
mem_mb=$(awk '/^MemTotal:/ { m = int($2 / 1024 / 2); print (m > 0 ? m : 1) }' /proc/meminfo)

cat >"$conf" <<EOF
# Generated by one_node.sh for $dir
ClusterName=sprint$$
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MailProg=/bin/true
# One CPU per task by default, so array tasks share the node.
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_interval=2,bf_interval=1
ReturnToService=2
MessageTimeout=5
SlurmdTimeout=30
InactiveLimit=0
KillWait=2
Waittime=0
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/state/slurmctld.pid
SlurmdPidFile=$dir/spool/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$node NodeAddr=127.0.0.1 NodeHostname=$node CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
echo "export SLURM_CONF='$conf'" >"$dir/env"

show_logs() {
    local f
    for f in "$dir/log/slurmctld.log" "$dir/log/slurmd.log" "$dir/munge/munged.log"; do
        [ -f "$f" ] || continue
        echo "--- tail of $f" >&2
        tail -n 20 "$f" >&2
    done
}
fail() {
    echo "one_node: $*" >&2
    show_logs
    stop_cluster
    exit 1
}

# Both daemonise; slurmd keeps retrying until slurmctld answers.
slurmctld -f "$conf" || fail "slurmctld did not start"
slurmd -f "$conf" -N "$node" || fail "slurmd did not start"

export SLURM_CONF=$conf
for i in $(seq 120); do
    state=$(sinfo -h -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    [ "$i" -eq 120 ] && fail "node not idle after 60 s (state: ${state:-none})"
    if [ "$i" -gt 4 ]; then  # the daemons write their pid files once they run
        pid_of "$dir/state/slurmctld.pid" >/dev/null || fail "slurmctld died"
        pid_of "$dir/spool/slurmd.pid" >/dev/null || fail "slurmd died"
    fi
    sleep 0.5
done
echo "one_node: slurm up in $dir (node $node, $cpus CPUs, ports $ctld_port/$slurmd_port)"
