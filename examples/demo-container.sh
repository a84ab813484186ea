#!/usr/bin/env bash
# make demo-container: the S003 story with real images and a named volume.
#
#   bash examples/demo-container.sh build/volinit-static
#
# Builds the notes images of examples/s003-stale-volume FROM scratch (volinit
# and busybox-static only: no registry needed), then plays the story:
# version 1 writes schema 1 data to a named volume; version 2, rebuilt without
# a migration, is refused by volinit before the app runs (exit 80); `volinit
# status` reads the volume offline; version 2 built with its hook migrates the
# volume and starts; `podman stop` ends it cleanly through volinit.
#
# Needs root podman and runc (sh tools/deps.sh e2e). Uses the project-local
# podman store of the container tests (build/e2e, see tests/e2e/podman-env.sh),
# not the host's. Set KEEP=1 to keep the volume and containers afterwards.
set -euo pipefail

STATIC=${1:?usage: demo-container.sh PATH-TO-volinit-static}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
EX=$HERE/s003-stale-volume
VOL=${DEMO_VOLUME:-s003-data}
APP=s003-app
IMG1=localhost/s003/notes:1
IMG2_STALE=localhost/s003/notes:2-no-migration
IMG2=localhost/s003/notes:2

if [ "$(id -u)" != 0 ]; then
	echo "demo-container: needs root podman: sudo make demo-container" >&2
	exit 1
fi
for t in podman runc; do
	command -v "$t" >/dev/null || { echo "demo-container: $t is missing: sh tools/deps.sh e2e" >&2; exit 1; }
done
# shellcheck source=../tests/e2e/podman-env.sh
. "$REPO/tests/e2e/podman-env.sh"
volinit_podman_env

if [ -t 1 ]; then B=$'\e[1m' N=$'\e[0m'; else B='' N=''; fi
step() { printf '\n%s==> %s%s\n' "$B" "$*" "$N"; }
note() { printf '    %s\n' "$@"; }
# Show a command, run it, show its exit code; never stop the demo.
cmd() {
	printf '%s$ %s%s\n' "$B" "$*" "$N"
	set +e
	"$@" 2>&1 | sed 's/^/  /'
	RC=${PIPESTATUS[0]}
	set -e
	printf '  (exit code %s)\n' "$RC"
}

cleanup() {
	[ "${KEEP:-0}" = 1 ] && return
	podman rm -f -t 0 "$APP" s003-v2-refused >/dev/null 2>&1 || true
	podman volume rm -f "$VOL" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup

step "Building the images (FROM scratch: /sbin/volinit, busybox, the notes app)"
CTX=$(mktemp -d)
trap 'rm -rf "$CTX"; cleanup' EXIT
cp -a "$EX/." "$CTX/"
volinit_stage_binaries "$CTX" "$STATIC"
build() { # TAG BUILD-ARGS...
	local tag=$1
	shift
	podman build --pull=never -q -t "$tag" --build-arg IMAGE_REF="$tag" "$@" "$CTX" >/dev/null
	note "$tag  ($*)"
}
build "$IMG1" --build-arg APP_VERSION=1
build "$IMG2_STALE" --build-arg APP_VERSION=2 --build-arg MIGRATE=no
build "$IMG2" --build-arg APP_VERSION=2

step "Version 1 starts on a new named volume and writes schema 1 data"
cmd podman volume create "$VOL"
cmd podman run --rm -v "$VOL:/data" "$IMG1" /app/notes once
MP=$(podman volume inspect -f '{{.Mountpoint}}' "$VOL")
note "On the volume: schema_version.txt = $(cat "$MP/schema_version.txt"), sessions.txt:"
sed 's/^/      /' "$MP/sessions.txt"

step "Version 2 is rebuilt with new code (schema 2) but no migration: the S003 mistake"
note "Without volinit the new app meets the old data and fails at run time:"
cmd podman run --rm -v "$VOL:/data" --entrypoint /app/notes "$IMG2_STALE" once
note "With volinit as the ENTRYPOINT the image refuses before the app runs:"
cmd podman run --name s003-v2-refused -v "$VOL:/data" "$IMG2_STALE"
note "What an operator sees in podman ps (and the lines above in podman logs):"
cmd podman ps -a --filter name=s003-v2-refused --format '{{.Names}}  {{.Image}}  {{.Status}}'
note "Nothing on the volume was changed: schema_version.txt = $(cat "$MP/schema_version.txt"), sessions.txt still there."

step "volinit status reads the volume offline (nothing is running, nothing is changed)"
cmd podman run --rm -v "$VOL:/data" --entrypoint /sbin/volinit "$IMG2" status

step "The fix: version 2 built with its hook (migrations/0002-split-sessions.sh, on_older = migrate)"
cmd podman run -d --name "$APP" -v "$VOL:/data" "$IMG2"
deadline=$(($(date +%s) + 30))
until podman logs "$APP" 2>&1 | grep -q 'notes v2: serving'; do
	if [ "$(podman inspect -f '{{.State.Status}}' "$APP")" = exited ] || [ "$(date +%s)" -ge "$deadline" ]; then
		note "the app did not start; its log:"
		podman logs "$APP" 2>&1 | sed 's/^/  /'
		exit 1
	fi
	sleep 0.1
done
cmd podman logs "$APP"
note "On the volume: schema_version.txt = $(cat "$MP/schema_version.txt"), sessions/: $(cd "$MP/sessions" && echo *)"

step "podman stop: SIGTERM goes through volinit (PID 1) to the app"
t0=$(date +%s%N)
cmd podman stop -t 10 "$APP"
t1=$(date +%s%N)
note "stopped in $(((t1 - t0) / 1000000)) ms (stop timeout 10 s); container exit code $(podman inspect -f '{{.State.ExitCode}}' "$APP")"
cmd podman logs --tail 1 "$APP"

step "The volume afterwards, and volinit's journal of what happened to it"
cmd podman run --rm -v "$VOL:/data" --entrypoint /sbin/volinit "$IMG2" status

step "Done"
if [ "${KEEP:-0}" = 1 ]; then
	note "Kept: volume $VOL, container $APP (CONTAINERS_CONF=$CONTAINERS_CONF CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF)"
else
	note "Removed the demo's containers and volume $VOL (KEEP=1 keeps them)."
fi
