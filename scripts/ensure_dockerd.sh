#!/usr/bin/env bash
# Make sure a Docker engine answers; start Debian's `dockerd` when none does.
#
# Usage: scripts/ensure_dockerd.sh
#   AIRLOCK_DOCKERD_LOG=path     dockerd's log file (default /var/log/airlock-dockerd.log)
#   AIRLOCK_DOCKERD_TIMEOUT=s    seconds to wait for the daemon (default 60)
#
# There is no systemd on the target machines, so dockerd is started detached with setsid.
# Prints the server version on success (exit 0); a clear error and exit 1 otherwise.
set -euo pipefail

LOG="${AIRLOCK_DOCKERD_LOG:-/var/log/airlock-dockerd.log}"
TIMEOUT="${AIRLOCK_DOCKERD_TIMEOUT:-60}"

die() {
    echo "error: $*" >&2
    exit 1
}

server_version() {
    docker info --format '{{.ServerVersion}}' 2>/dev/null
}

command -v docker >/dev/null 2>&1 ||
    die "the 'docker' command is not installed (apt-get install docker.io, or run scripts/setup.sh)"

if version="$(server_version)" && [[ -n "$version" ]]; then
    echo "$version"
    exit 0
fi

if docker info 2>&1 | grep -qi 'permission denied'; then
    die "a Docker daemon runs but $(id -un) may not use /var/run/docker.sock; add the user to the" \
        "'docker' group (usermod -aG docker $(id -un)) and log in again"
fi

DOCKERD="$(command -v dockerd 2>/dev/null || true)"
if [[ -z "$DOCKERD" ]]; then # /usr/sbin is not on every user's PATH
    for candidate in /usr/sbin/dockerd /usr/bin/dockerd; do
        [[ -x "$candidate" ]] && DOCKERD="$candidate" && break
    done
fi
[[ -n "$DOCKERD" ]] ||
    die "no Docker daemon answers and 'dockerd' is not installed (apt-get install docker.io)"

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 ||
        die "no Docker daemon answers and starting dockerd needs root (sudo is not installed)"
    SUDO=(sudo)
fi

echo "docker: no daemon answers; starting $DOCKERD (log: $LOG)" >&2
MARK="=== $(date '+%F %T') scripts/ensure_dockerd.sh starts $DOCKERD ==="
# shellcheck disable=SC2016 # $0..$2 expand inside the inner shell, not here.
if ! PID="$("${SUDO[@]}" sh -c 'echo "$2" >>"$1" && setsid nohup "$0" >>"$1" 2>&1 </dev/null & echo $!' \
    "$DOCKERD" "$LOG" "$MARK")"; then
    die "could not start $DOCKERD (is $LOG writable?)"
fi

alive() { # running and not a zombie waiting to be reaped
    local state
    state="$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" || return 1
    [[ -n "$state" && "$state" != Z ]]
}

log_since_start() { # the log lines written since our marker
    awk -v mark="$MARK" '$0 == mark { n = NR } { line[NR] = $0 } END { for (i = n + 1; i <= NR; i++) print line[i] }' \
        "$LOG" 2>/dev/null | tail -n 15
}

for ((i = 0; i < TIMEOUT; i++)); do
    if version="$(server_version)" && [[ -n "$version" ]]; then
        echo "$version"
        exit 0
    fi
    if [[ -n "$PID" ]] && ! alive "$PID"; then
        echo "error: dockerd exited right after starting. Last lines of $LOG:" >&2
        log_since_start >&2
        echo "error: see $LOG for the full log" >&2
        exit 1
    fi
    sleep 1
done

echo "error: dockerd did not answer within ${TIMEOUT}s. Last lines of $LOG:" >&2
log_since_start >&2
echo "error: see $LOG for the full log (common causes: no permission for cgroups/iptables in" \
    "this container, or another dockerd holding /var/run/docker.pid)" >&2
exit 1
