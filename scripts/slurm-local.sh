#!/usr/bin/env bash
# A real one-node SLURM cluster on this machine, for tests/test_slurm.py and for trying
# `ce-vs-mse -m ... hydra/launcher=slurm` without a cluster. Debian/Ubuntu, as root.
#
#   bash scripts/slurm-local.sh          # install (if missing), configure, start; wait until idle
#   bash scripts/slurm-local.sh stop     # stop every daemon it started
#   bash scripts/slurm-local.sh status   # exit 0 if the node answers and is usable
#
# Idempotent: when the cluster is already up, starting again only checks it. It writes
# /etc/slurm/slurm.conf (and, with accounting, /etc/slurm/slurmdbd.conf), overwriting what was
# there: run it on a throwaway machine or container, never on a real cluster node.
# No systemd needed: the daemons are started directly (logs in /var/log/slurm, /var/log/munge).
#
# Accounting (SLURM_LOCAL_ACCOUNTING=1, the default): slurmdbd on a local MariaDB, so that
# `sacct` works. submitit (the slurm launcher) learns that a job has ended without a result
# (cancelled, killed, out of time) only from `sacct`; without accounting such a job stays
# "UNKNOWN" to it and the sweep waits forever. SLURM_LOCAL_ACCOUNTING=0 skips it (faster,
# enough for sweeps whose jobs all finish).
set -euo pipefail

ACCOUNTING=${SLURM_LOCAL_ACCOUNTING:-1}
PARTITION=${SLURM_LOCAL_PARTITION:-debug}
CLUSTER=localcluster
CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
DBD_CONF=$CONF_DIR/slurmdbd.conf
LOG_DIR=/var/log/slurm
STATE_DIR=/var/lib/slurm
RUN_DIR=/run/slurm-local
START_TIMEOUT=${SLURM_LOCAL_TIMEOUT:-90}

say() { printf 'slurm-local: %s\n' "$*" >&2; }
die() {
    say "ERROR: $*"
    for f in "$LOG_DIR"/slurmctld.log "$LOG_DIR"/slurmd.log "$LOG_DIR"/slurmdbd.log \
             /var/log/munge/munged.log; do
        if [ -s "$f" ]; then say "--- last lines of $f:"; tail -n 15 "$f" >&2; fi
    done
    exit 1
}

[ "$(id -u)" -eq 0 ] || { say "ERROR: run as root (it installs packages and starts daemons)"; exit 1; }

# --- helpers --------------------------------------------------------------------------------

pid_alive() {  # pid_alive FILE: the process whose pid is in FILE runs (and is not a reused pid)
    local pid
    [ -s "$1" ] || return 1
    pid=$(cat "$1")
    kill -0 "$pid" 2>/dev/null || return 1
    case "$(cat "/proc/$pid/comm" 2>/dev/null)" in
        munged|slurmctld|slurmd|slurmdbd|mariadbd|mysqld) return 0 ;;
        *) return 1 ;;
    esac
}

wait_until() {  # wait_until SECONDS DESCRIPTION COMMAND...: poll every 0.5 s
    local limit=$1 what=$2; shift 2
    local end=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$end" ] || die "timed out after ${limit}s waiting for $what"
        sleep 0.5
    done
}

launch() {  # launch NAME COMMAND...: start a daemon (it forks itself); its early output is kept
    local name=$1; shift
    # never the caller's stdout/stderr: a daemon holding them open would hang `... | tee`
    "$@" </dev/null >>"$LOG_DIR/$name.stderr" 2>&1 || {
        tail -n 20 "$LOG_DIR/$name.stderr" >&2
        die "$name did not start"
    }
}

stop_pidfile() {  # stop_pidfile FILE NAME: TERM, wait up to 10 s, then KILL
    local file=$1 name=$2 pid
    pid_alive "$file" || { rm -f "$file"; return 0; }
    pid=$(cat "$file")
    say "stopping $name (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && { say "$name did not stop, killing it"; kill -9 "$pid" || true; }
    rm -f "$file"
}

node_state() {  # the node's state as sinfo prints it (idle, mix, alloc, down*, ...)
    sinfo -h -N -n "$NODE" -o '%t' 2>/dev/null | head -n 1
}

node_usable() {
    case "$(node_state)" in idle|mix|alloc|comp) return 0 ;; *) return 1 ;; esac
}

cluster_up() {
    pid_alive /run/munge/munged.pid && pid_alive "$RUN_DIR/slurmctld.pid" &&
        pid_alive "$RUN_DIR/slurmd.pid" &&
        { [ "$ACCOUNTING" != 1 ] || pid_alive "$RUN_DIR/slurmdbd.pid"; } &&
        node_usable
}

NODE=$(hostname -s)

# --- stop / status --------------------------------------------------------------------------

stop_all() {
    if pid_alive "$RUN_DIR/slurmctld.pid"; then
        say "stopping slurmctld and slurmd (scontrol shutdown)"
        scontrol shutdown >/dev/null 2>&1 || true  # slurmctld and slurmd end together
        for _ in $(seq 1 40); do
            pid_alive "$RUN_DIR/slurmctld.pid" || pid_alive "$RUN_DIR/slurmd.pid" || break
            sleep 0.25
        done
    fi
    stop_pidfile "$RUN_DIR/slurmd.pid" slurmd
    stop_pidfile "$RUN_DIR/slurmctld.pid" slurmctld
    stop_pidfile "$RUN_DIR/slurmdbd.pid" slurmdbd
    if [ -S /run/mysqld/mysqld.sock ] && [ -s /run/mysqld/mysqld.pid ]; then
        stop_pidfile /run/mysqld/mysqld.pid mariadb
    fi
    stop_pidfile /run/munge/munged.pid munged
    say "stopped"
}

case "${1:-start}" in
    stop) stop_all; exit 0 ;;
    status)
        if command -v sinfo >/dev/null && cluster_up; then
            say "up: node $NODE is $(node_state)"; exit 0
        fi
        say "not up"; exit 1 ;;
    start) ;;
    *) say "usage: $0 [start|stop|status]"; exit 2 ;;
esac

# --- start ----------------------------------------------------------------------------------

if command -v sinfo >/dev/null && [ -f "$CONF" ] && cluster_up; then
    say "already up: node $NODE is $(node_state) in partition $PARTITION"
    exit 0
fi
T0=$SECONDS

# 1. packages (daemons are started below, never by the package scripts)
PKGS=(munge slurmctld slurmd slurm-client)
[ "$ACCOUNTING" = 1 ] && PKGS+=(slurmdbd mariadb-server)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} (apt-get)"
    created_policy=
    if [ ! -e /usr/sbin/policy-rc.d ]; then  # keep the package scripts from starting daemons
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        created_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"; } \
        >/tmp/slurm-local-apt.log 2>&1 || {
        tail -n 30 /tmp/slurm-local-apt.log >&2
        [ -n "$created_policy" ] && rm -f /usr/sbin/policy-rc.d
        die "apt-get install failed (log: /tmp/slurm-local-apt.log)"
    }
    [ -n "$created_policy" ] && rm -f /usr/sbin/policy-rc.d
    say "installed in $((SECONDS - T0))s"
fi

# Anything half-running from an earlier attempt is stopped first, so the config below applies.
if pid_alive "$RUN_DIR/slurmctld.pid" || pid_alive "$RUN_DIR/slurmd.pid" ||
    pid_alive "$RUN_DIR/slurmdbd.pid"; then
    say "cluster partly up or not usable; restarting it"
    stop_all
fi

mkdir -p "$CONF_DIR" "$LOG_DIR" "$STATE_DIR/slurmctld" "$STATE_DIR/slurmd" "$RUN_DIR"
chown slurm:slurm "$LOG_DIR" "$STATE_DIR/slurmctld"

# 2. munge
mkdir -p /run/munge /var/lib/munge /var/log/munge /etc/munge
chown munge:munge /run/munge /var/lib/munge /var/log/munge /etc/munge
chmod 0755 /run/munge
if [ ! -s /etc/munge/munge.key ]; then
    say "creating the munge key"
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
if ! pid_alive /run/munge/munged.pid; then
    say "starting munged"
    # --force: a socket or lock left by a munged that died is taken over (none runs: checked)
    launch munged runuser -u munge -- /usr/sbin/munged --force --pid-file=/run/munge/munged.pid
fi
wait_until 15 "munge to answer" bash -c 'munge -n | unmunge'

# 3. slurm.conf for this host: the node as slurmd sees it (CPUs, sockets, cores, memory)
NODE_HW=$(slurmd -C 2>/dev/null | head -n 1 | sed -e 's/^NodeName=[^ ]* //') ||
    die "slurmd -C failed"
[ -n "$NODE_HW" ] || die "slurmd -C printed nothing"

acct_lines="# no accounting: sacct does not work
AccountingStorageType=accounting_storage/none"
if [ "$ACCOUNTING" = 1 ]; then
    acct_lines="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30"
fi

say "writing $CONF (node $NODE: $NODE_HW; partition $PARTITION)"
cat >"$CONF" <<EOF
# Written by scripts/slurm-local.sh: a one-node cluster on this machine. Rerun it to rewrite.
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
# No cgroups (they are often unusable in containers): processes tracked by /proc, no binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
# Quick reaction for tests: signals to kill a cancelled job's processes come 5 s apart.
KillWait=5
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
Waittime=0
SlurmctldPidFile=$RUN_DIR/slurmctld.pid
SlurmdPidFile=$RUN_DIR/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
StateSaveLocation=$STATE_DIR/slurmctld
SlurmdSpoolDir=$STATE_DIR/slurmd
$acct_lines
JobCompType=jobcomp/none

NodeName=$NODE NodeAddr=127.0.0.1 $NODE_HW State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF

# 4. accounting: MariaDB + slurmdbd
if [ "$ACCOUNTING" = 1 ]; then
    if ! mysqladmin ping >/dev/null 2>&1; then
        say "starting mariadb"
        mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
        if [ ! -d /var/lib/mysql/mysql ]; then
            mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/tmp/slurm-local-db.log 2>&1 ||
                die "mariadb-install-db failed (log: /tmp/slurm-local-db.log)"
        fi
        (cd / && exec setsid -f mariadbd-safe --user=mysql --bind-address=127.0.0.1 \
            --pid-file=/run/mysqld/mysqld.pid) </dev/null >>"$LOG_DIR/mariadb.stderr" 2>&1
        wait_until 30 "mariadb to answer" mysqladmin ping
    fi
    mysql -u root <<'EOF' || die "could not create the slurm database user"
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm-local';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
FLUSH PRIVILEGES;
EOF
    cat >"$DBD_CONF" <<EOF
# Written by scripts/slurm-local.sh
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
SlurmUser=slurm
PidFile=$RUN_DIR/slurmdbd.pid
LogFile=$LOG_DIR/slurmdbd.log
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurm-local
StorageLoc=slurm_acct_db
EOF
    chown slurm:slurm "$DBD_CONF"
    chmod 0600 "$DBD_CONF"
    if ! pid_alive "$RUN_DIR/slurmdbd.pid"; then
        say "starting slurmdbd"
        launch slurmdbd /usr/sbin/slurmdbd
    fi
    wait_until 30 "slurmdbd to answer" sacctmgr -i show cluster
    if ! sacctmgr -n -P show cluster format=cluster 2>/dev/null | grep -qx "$CLUSTER"; then
        sacctmgr -i add cluster "$CLUSTER" >/dev/null || die "sacctmgr add cluster failed"
    fi
fi

# 5. slurmctld and slurmd
if ! pid_alive "$RUN_DIR/slurmctld.pid"; then
    say "starting slurmctld"
    launch slurmctld /usr/sbin/slurmctld
fi
wait_until 30 "slurmctld to answer" scontrol ping
if ! pid_alive "$RUN_DIR/slurmd.pid"; then
    say "starting slurmd"
    launch slurmd /usr/sbin/slurmd -N "$NODE"
fi

# 6. the node up and idle
say "waiting for node $NODE to be idle"
end=$((SECONDS + START_TIMEOUT))
until node_usable; do
    state=$(node_state)
    case "$state" in
        down*|drain*|fail*|unk*)  # e.g. "down*" until slurmd registers; resume once it has
            if pid_alive "$RUN_DIR/slurmd.pid" && [ "$state" != "unk*" ] &&
                [ "$state" != "down*" ]; then
                scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true
            fi ;;
    esac
    pid_alive "$RUN_DIR/slurmd.pid" || die "slurmd exited"
    [ "$SECONDS" -lt "$end" ] || die "node $NODE still '$state' after ${START_TIMEOUT}s ($(
        scontrol show node "$NODE" 2>/dev/null | grep -o 'Reason=.*' || echo 'no reason given'))"
    sleep 0.5
done
say "up in $((SECONDS - T0))s: node $NODE is $(node_state) in partition $PARTITION$(
    [ "$ACCOUNTING" = 1 ] && echo ', with accounting (sacct)')"
