#!/usr/bin/env bash
# The stateful-service example, played with podman: sessiond keeps sessions, a
# journal and counters on a named volume; a clean restart and a crash (SIGKILL)
# leave all of it intact; `volinit status` reads the volume with the service
# stopped.
#
#   bash examples/stateful-service/run.sh build/volinit-static
#
# Needs root podman and runc (sh tools/deps.sh e2e); uses the project-local
# podman store of the container tests (tests/e2e/podman-env.sh). KEEP=1 keeps
# the container and the volume.
set -euo pipefail

STATIC=${1:?usage: run.sh PATH-TO-volinit-static}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
IMG=localhost/examples/sessiond:1
VOL=${DEMO_VOLUME:-sessiond-state}
SVC=${DEMO_CONTAINER:-sessiond}

[ "$(id -u)" = 0 ] || { echo "run.sh: needs root podman" >&2; exit 1; }
# shellcheck source=../../tests/e2e/podman-env.sh
. "$REPO/tests/e2e/podman-env.sh"
volinit_podman_env

step() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$@"; }
cmd() {
	printf '$ %s\n' "$*"
	set +e
	"$@" 2>&1 | sed 's/^/  /'
	RC=${PIPESTATUS[0]}
	set -e
	printf '  (exit code %s)\n' "$RC"
}
# Bounded wait for the COUNT-th log line matching RE.
wait_log() { # RE COUNT
	local deadline=$(($(date +%s) + 30))
	until [ "$(podman logs "$SVC" 2>&1 | grep -c -- "$1")" -ge "$2" ]; do
		if [ "$(date +%s)" -ge "$deadline" ] || [ "$(podman inspect -f '{{.State.Status}}' "$SVC")" = exited ]; then
			echo "run.sh: sessiond did not log '$1' ($2 times):" >&2
			podman logs "$SVC" >&2
			exit 1
		fi
		sleep 0.1
	done
}
cleanup() {
	[ "${KEEP:-0}" = 1 ] && return
	podman rm -f -t 0 "$SVC" >/dev/null 2>&1 || true
	podman volume rm -f "$VOL" >/dev/null 2>&1 || true
}
CTX=$(mktemp -d)
trap 'rm -rf "$CTX"; cleanup' EXIT
cleanup

step "Building $IMG (FROM scratch: volinit, busybox, sessiond)"
cp -a "$HERE/." "$CTX/"
volinit_stage_binaries "$CTX" "$STATIC"
podman build --pull=never -q -t "$IMG" "$CTX" >/dev/null
podman volume create "$VOL" >/dev/null

step "Start the service on the named volume $VOL and send it requests"
cmd podman run -d --name "$SVC" -v "$VOL:/srv/state" "$IMG"
wait_log 'sessiond: serving' 1
podman logs "$SVC" 2>&1 | sed 's/^/  /'
cmd podman exec "$SVC" sessiond login alice
cmd podman exec "$SVC" sessiond login bob
cmd podman exec "$SVC" sessiond logout bob
cmd podman exec "$SVC" sessiond login carol
cmd podman exec "$SVC" sessiond show
note "volinit status works while the service runs too: it shows who holds the volume."
cmd podman run --rm -v "$VOL:/srv/state" --entrypoint /sbin/volinit "$IMG" status

step "A clean restart: podman restart sends SIGTERM through volinit to sessiond"
cmd podman restart -t 10 "$SVC"
wait_log 'sessiond: serving' 2
podman logs --tail 2 "$SVC" 2>&1 | sed 's/^/  /'
cmd podman exec "$SVC" sessiond login dave

step "A crash: SIGKILL to the whole container (volinit, PID 1, and the service with it)"
cmd podman kill -s KILL "$SVC"
cmd podman wait "$SVC"
note "The service is stopped. volinit status reads the volume offline:"
cmd podman run --rm -v "$VOL:/srv/state" --entrypoint /sbin/volinit "$IMG" status

step "Start again after the crash: the journal is replayed, nothing is lost"
cmd podman start "$SVC"
wait_log 'sessiond: serving' 3
podman logs --tail 2 "$SVC" 2>&1 | sed 's/^/  /'
cmd podman exec "$SVC" sessiond show

step "Stop, and look at the volume once more"
cmd podman stop -t 10 "$SVC"
cmd podman run --rm -v "$VOL:/srv/state" --entrypoint /sbin/volinit "$IMG" status
cmd podman run --rm -v "$VOL:/srv/state" --entrypoint /app/sessiond "$IMG" show
