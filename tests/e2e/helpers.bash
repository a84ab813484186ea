# shellcheck shell=bash
# Shared by the e2e bats files: a project-local podman (tests/e2e/podman-env.sh),
# FROM-scratch images built once per file, named volumes and containers named
# after the run so that teardown removes exactly what this run created, and
# bounded waits on events (a log line, an exit) instead of sleeps.
#
# Environment: VOLINIT_STATIC (required: absolute path of build/volinit-static),
# VOLINIT_E2E_STATE (podman store, default build/e2e), E2E_TIMEOUT (seconds for
# each wait, default 30).

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E_DIR/../.." && pwd)
# shellcheck source=tests/e2e/podman-env.sh
. "$E2E_DIR/podman-env.sh"
volinit_podman_env || return 1
: "${E2E_TIMEOUT:=30}"
ENGINE=podman
# shellcheck source=tests/e2e/common.bash
. "$E2E_DIR/common.bash"
# python3 from Debian (python3-yaml, python3-kubernetes), not a pyenv shim.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

IMG_BASE=localhost/volinit-e2e/base:latest
IMG_V1=localhost/volinit-e2e/notes:1
IMG_V2=localhost/volinit-e2e/notes:2
IMG_V2HOOK=localhost/volinit-e2e/notes:2-hook
IMG_V2MOUNT=localhost/volinit-e2e/notes:2-mount

# The suite needs root podman; CI is root. Elsewhere it is skipped with the
# reason, unless CI is set, where a skip would hide a failure.
e2e_require() {
	local why=""
	if [ "$(id -u)" != 0 ]; then
		why="the container tests need root podman (run: sudo make e2e)"
	elif ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
		why="podman and runc are not installed (sh tools/deps.sh e2e)"
	fi
	if [ -n "$why" ]; then
		[ -n "${CI:-}" ] && { echo "e2e: $why" >&2; return 1; }
		skip "$why"
	fi
	if [ -z "${VOLINIT_STATIC:-}" ] || [ ! -x "$VOLINIT_STATIC" ]; then
		echo "e2e: VOLINIT_STATIC must name the static volinit (make e2e sets it)" >&2
		return 1
	fi
}

# Build (or take from the layer cache) the base and the notes images.
e2e_build_images() {
	local ctx="$BATS_FILE_TMPDIR/base-ctx" v
	rm -rf "$ctx" && cp -a "$E2E_DIR/images/base" "$ctx" || return 1
	volinit_stage_binaries "$ctx" "$VOLINIT_STATIC" || return 1
	e2e_build "$IMG_BASE" "$ctx" || return 1
	for v in v1:$IMG_V1 v2:$IMG_V2 v2-hook:$IMG_V2HOOK v2-mount:$IMG_V2MOUNT; do
		e2e_build "${v#*:}" "$E2E_DIR/images/${v%%:*}" --build-arg BASE="$IMG_BASE" || return 1
	done
}

e2e_build() { # TAG CONTEXT [ARGS...]
	local tag=$1 ctx=$2 out
	shift 2
	if ! out=$(podman build --pull=never --layers -q -t "$tag" "$@" "$ctx" 2>&1); then
		echo "podman build of $tag failed:" >&2
		echo "$out" >&2
		return 1
	fi
}

# A name unique to this run, so teardown removes only what the run made.
# With --no-images, the notes images are not built.
e2e_setup_file() {
	e2e_require || return 1
	export E2E_PREFIX="vie2e-$$-${BATS_ROOT_PID:-0}"
	[ "${1:-}" = --no-images ] || e2e_build_images
}

e2e_teardown_file() {
	[ -n "${E2E_PREFIX:-}" ] || return 0
	local c v
	c=$(podman ps -a --format '{{.Names}}' 2>/dev/null | grep "^$E2E_PREFIX-" || true)
	[ -z "$c" ] || podman rm -f -t 0 $c >/dev/null 2>&1 || true
	v=$(podman volume ls --format '{{.Name}}' 2>/dev/null | grep "^$E2E_PREFIX-" || true)
	[ -z "$v" ] || podman volume rm -f $v >/dev/null 2>&1 || true
	# Layers superseded by this run's builds (the store is kept as a cache).
	podman image prune -f >/dev/null 2>&1 || true
}

name() { echo "$E2E_PREFIX-$1"; }

new_volume() { # NAME -> prints the volume's full name
	local v
	v=$(name "$1")
	podman volume rm -f "$v" >/dev/null 2>&1 || true
	podman volume create "$v" >/dev/null || return 1
	echo "$v"
}

# A volume at schema 1 with version-1 data, made by the v1 image itself.
seed_v1() { # VOLUME
	local out
	if ! out=$(podman run --rm -v "$1:/data" "$IMG_V1" /app/notes once 2>&1); then
		echo "seeding $1 with the v1 image failed:" >&2
		echo "$out" >&2
		return 1
	fi
	[ "$(cat "$(vol_path "$1")/schema_version.txt")" = 1 ]
}

