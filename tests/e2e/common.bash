# shellcheck shell=bash
# Shared by the podman (helpers.bash) and the Docker (docker.bash) e2e files:
# what the two engines do alike. Each sets ENGINE first: the engine's command
# (podman, or Debian's docker client, DOCKER_HOST naming the suite's private
# daemon), which these functions run for volume inspect, inspect, logs, wait.

# The volume's directory on the host: the tests read what is on it directly.
vol_path() { "$ENGINE" volume inspect -f '{{.Mountpoint}}' "$1"; }

# A signature of the volume's data (names, types, modes, sizes, mtimes,
# contents), leaving out volinit's own .volinit/ (its journal records
# refusals) unless the second argument is "all".
tree_sig() { # DIR [all]
	local prune=(-path ./.volinit -prune -o)
	[ "${2:-}" = all ] && prune=()
	(cd "$1" && {
		find . -mindepth 1 "${prune[@]}" -printf '%p %y %m %s %T@\n' | sort
		find . -mindepth 1 "${prune[@]}" -type f -exec md5sum {} + | sort
	}) | md5sum | cut -d' ' -f1
}

ms_now() { echo $(($(date +%s%N) / 1000000)); }

exit_code() { "$ENGINE" inspect -f '{{.State.ExitCode}}' "$1"; }

# Wait until a container's log has COUNT (default 1) lines matching an
# extended regex. Bounded: gives up after TIMEOUT (default E2E_TIMEOUT)
# seconds, or at once when the container has exited without them, and then
# shows the log.
wait_log() { # CONTAINER REGEX [TIMEOUT] [COUNT]
	local c=$1 re=$2 t=${3:-$E2E_TIMEOUT} n=${4:-1} deadline state
	deadline=$(($(date +%s) + t))
	while :; do
		[ "$("$ENGINE" logs "$c" 2>&1 | grep -Ec -- "$re")" -ge "$n" ] && return 0
		state=$("$ENGINE" inspect -f '{{.State.Status}}' "$c" 2>/dev/null)
		if [ "$state" = exited ] || [ "$state" = stopped ]; then
			[ "$("$ENGINE" logs "$c" 2>&1 | grep -Ec -- "$re")" -ge "$n" ] && return 0
			echo "container $c exited ($(exit_code "$c")) without logging /$re/:" >&2
			"$ENGINE" logs "$c" >&2 2>&1
			return 1
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			echo "timed out after ${t}s waiting for /$re/ in $c's log:" >&2
			"$ENGINE" logs "$c" >&2 2>&1
			return 1
		fi
		sleep 0.1
	done
}

# Wait for a container to exit (the engine's wait blocks on the event itself);
# prints the exit code.
wait_exit() { # CONTAINER [TIMEOUT]
	timeout "${2:-$E2E_TIMEOUT}" "$ENGINE" wait "$1"
}

# Lines of a file on a volume (0 when it does not exist).
count_lines() { [ -f "$1" ] && wc -l <"$1" | tr -d ' ' || echo 0; }

# Fail with a message (bats shows it) unless the two values are equal.
assert_eq() { # ACTUAL EXPECTED [WHAT]
	[ "$1" = "$2" ] && return 0
	echo "${3:-value}: expected '$2', got '$1'" >&2
	return 1
}

assert_contains() { # HAYSTACK NEEDLE
	case $1 in *"$2"*) return 0 ;; esac
	printf 'expected to find:\n  %s\nin:\n%s\n' "$2" "$1" >&2
	return 1
}

refute_contains() { # HAYSTACK NEEDLE
	case $1 in *"$2"*) printf 'did not expect:\n  %s\nin:\n%s\n' "$2" "$1" >&2; return 1 ;; esac
	return 0
}
