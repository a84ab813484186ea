# shellcheck shell=bash
# Shared by the Docker Engine e2e files (docker*.bats): a private dockerd for
# each file, never the machine's (its own data root, exec root and socket
# under /tmp/vd.XXXX, no iptables, no bridge: every container runs with
# --network none), started in setup_file, waited for on its socket, stopped
# by its pid in teardown_file. Images are built FROM scratch, as the podman
# suite's are (tests/e2e/images: busybox-static and the static volinit).
#
# Environment: VOLINIT_STATIC (required: build/volinit-static), E2E_TIMEOUT
# (seconds for each wait, default 30).

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E_DIR/../.." && pwd)
# shellcheck source=tests/e2e/podman-env.sh
. "$E2E_DIR/podman-env.sh" # volinit_stage_binaries only
# shellcheck source=tests/e2e/common.bash
. "$E2E_DIR/common.bash"
: "${E2E_TIMEOUT:=30}"
PY=/usr/bin/python3
PTYSHELL=$E2E_DIR/../helpers/ptyshell.py
# Debian's client, the same version as its daemon (another docker on PATH
# may be newer than the daemon's API).
DOCKER=/usr/bin/docker
COMPOSE=/usr/bin/docker-compose
ENGINE=$DOCKER

IMG_BASE=localhost/volinit-e2e/base:latest
IMG_V1=localhost/volinit-e2e/notes:1
IMG_V2=localhost/volinit-e2e/notes:2
IMG_V2HOOK=localhost/volinit-e2e/notes:2-hook

# Skips the file, with one line saying why, when Docker is not there or its
# daemon cannot start here; fails when the test setup itself is wrong.
docker_require() {
	local why=""
	if [ "$(id -u)" != 0 ]; then
		why="the Docker tests start their own dockerd and need root (run: sudo make e2e-docker)"
	elif [ ! -x "$DOCKER" ] || ! command -v dockerd >/dev/null || [ ! -x "$COMPOSE" ]; then
		why="Docker Engine or docker-compose is not installed (sh tools/deps.sh docker)"
	fi
	[ -z "$why" ] || skip "$why"
	if [ -z "${VOLINIT_STATIC:-}" ] || [ ! -x "$VOLINIT_STATIC" ]; then
		echo "e2e: VOLINIT_STATIC must name the static volinit (make e2e-docker sets it)" >&2
		return 1
	fi
}

# Starts the private daemon and exports DOCKER_HOST for it. Short paths: a
# unix socket's path must stay under 108 bytes.
docker_start() {
	local end
	VD=$(mktemp -d /tmp/vd.XXXX)
	export VD
	dockerd --data-root "$VD/data" --exec-root "$VD/exec" -H "unix://$VD/sock" \
		--iptables=false --ip-masq=false --bridge=none --pidfile "$VD/pid" \
		</dev/null >"$VD/log" 2>&1 3>&- &
	DOCKERD_PID=$!
	export DOCKERD_PID DOCKER_HOST="unix://$VD/sock"
	end=$((SECONDS + 60))
	until "$DOCKER" info >/dev/null 2>&1; do
		if ! kill -0 "$DOCKERD_PID" 2>/dev/null || [ "$SECONDS" -ge "$end" ]; then
			echo "dockerd did not start; its log:" >&2
			tail -20 "$VD/log" >&2
			docker_stop
			skip "dockerd cannot start on this machine (see its log above)"
		fi
		sleep 0.1
	done
}

# Removes every container of the private daemon, stops it by its pid
# (bounded: TERM, then KILL after 30 s), and removes its directory.
docker_stop() {
	local c end m
	[ -n "${VD:-}" ] || return 0
	if [ -n "${DOCKERD_PID:-}" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
		c=$("$DOCKER" ps -aq 2>/dev/null || true)
		[ -z "$c" ] || "$DOCKER" rm -f $c >/dev/null 2>&1 || true
		kill -TERM "$DOCKERD_PID" 2>/dev/null || true
		end=$((SECONDS + 30))
		while kill -0 "$DOCKERD_PID" 2>/dev/null; do
			if [ "$SECONDS" -ge "$end" ]; then
				kill -KILL "$DOCKERD_PID" 2>/dev/null || true
				break
			fi
			sleep 0.1
		done
		wait "$DOCKERD_PID" 2>/dev/null || true
	fi
	# Whatever the daemon left mounted under its directory, deepest first.
	for m in $(awk -v d="$VD/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf "$VD"
}

e2e_build() { # TAG CONTEXT [ARGS...]
	local tag=$1 ctx=$2 out
	shift 2
	if ! out=$("$DOCKER" build --network none -q -t "$tag" -f "$ctx/Containerfile" "$@" "$ctx" 2>&1); then
		echo "docker build of $tag failed:" >&2
		echo "$out" >&2
		return 1
	fi
}

# The base and the notes images of the podman suite, built the same way.
docker_build_images() {
	local ctx="$BATS_FILE_TMPDIR/base-ctx" v
	rm -rf "$ctx" && cp -a "$E2E_DIR/images/base" "$ctx" || return 1
	volinit_stage_binaries "$ctx" "$VOLINIT_STATIC" || return 1
	e2e_build "$IMG_BASE" "$ctx" || return 1
	for v in v1:$IMG_V1 v2:$IMG_V2 v2-hook:$IMG_V2HOOK; do
		e2e_build "${v#*:}" "$E2E_DIR/images/${v%%:*}" --build-arg BASE="$IMG_BASE" || return 1
	done
}

docker_setup_file() {
	docker_require || return 1
	docker_start
	export E2E_PREFIX="vid-$$"
	[ "${1:-}" = --no-images ] || docker_build_images
}

docker_teardown_file() {
	docker_stop
}

name() { echo "$E2E_PREFIX-$1"; }

new_volume() { # NAME -> prints the volume's full name
	local v
	v=$(name "$1")
	"$DOCKER" volume create "$v" >/dev/null || return 1
	echo "$v"
}

# A volume at schema 1 with version-1 data, made by the v1 image itself.
seed_v1() { # VOLUME
	local out
	if ! out=$("$DOCKER" run --rm --network none -v "$1:/data" "$IMG_V1" /app/notes once 2>&1); then
		echo "seeding $1 with the v1 image failed:" >&2
		echo "$out" >&2
		return 1
	fi
	[ "$(cat "$(vol_path "$1")/schema_version.txt")" = 1 ]
}

# Waits, bounded, until a Go template over `docker inspect` of a container
# gives a number >= MIN (RestartCount, say).
# The exit code of a container that a restart policy keeps restarting, read
# in the same inspect as its status, between two runs (status restarting or
# exited): during a run Docker shows 0. (.State.Running stays true while
# restarting.) Bounded: gives up after TIMEOUT (default E2E_TIMEOUT) seconds.
stopped_exit_code() { # CONTAINER [TIMEOUT]
	local c=$1 t=${2:-$E2E_TIMEOUT} end v
	end=$((SECONDS + t))
	while :; do
		v=$("$DOCKER" inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$c" 2>/dev/null)
		case ${v%% *} in
		restarting | exited) echo "${v#* }"; return 0 ;;
		esac
		if [ "$SECONDS" -ge "$end" ]; then
			echo "timed out after ${t}s: $c is still running ($v)" >&2
			return 1
		fi
		sleep 0.05
	done
}

wait_inspect_ge() { # CONTAINER TEMPLATE MIN [TIMEOUT]
	local c=$1 tpl=$2 min=$3 t=${4:-$E2E_TIMEOUT} end v
	end=$((SECONDS + t))
	while :; do
		v=$("$DOCKER" inspect -f "$tpl" "$c" 2>/dev/null || echo -1)
		[ "$v" -ge "$min" ] 2>/dev/null && return 0
		if [ "$SECONDS" -ge "$end" ]; then
			echo "timed out after ${t}s: $tpl of $c is $v, not >= $min" >&2
			"$DOCKER" logs "$c" >&2 2>&1
			return 1
		fi
		sleep 0.1
	done
}
