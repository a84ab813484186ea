# shellcheck shell=bash
# Source this file, then call volinit_podman_env [STATE_DIR]: it renders the
# project-local containers.conf and storage.conf of this directory into
# STATE_DIR (default: $VOLINIT_E2E_STATE, else build/e2e of this checkout) and
# exports CONTAINERS_CONF and CONTAINERS_STORAGE_CONF, so that every podman
# command after it uses the project's store and settings, not the host's.
#
#   . tests/e2e/podman-env.sh && volinit_podman_env && podman images
#
# The storage driver is overlay, or vfs where the state directory itself is on
# overlayfs (a CI job inside a container); VOLINIT_E2E_DRIVER overrides it.
volinit_podman_env() {
	local here state run driver
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	state=${1:-${VOLINIT_E2E_STATE:-$here/../../build/e2e}}
	mkdir -p "$state" || return
	state=$(cd "$state" && pwd)
	# Runtime state belongs on a tmpfs that a reboot clears, as podman expects.
	run=/run/volinit-e2e-$(printf '%s' "$state" | cksum | cut -d' ' -f1)
	driver=${VOLINIT_E2E_DRIVER:-overlay}
	if [ -z "${VOLINIT_E2E_DRIVER:-}" ] && [ "$(stat -f -c %T "$state")" = overlayfs ]; then
		driver=vfs
	fi
	mkdir -p "$run" || return
	sed -e "s#@RUN@#$run#g" "$here/containers.conf" >"$state/containers.conf" || return
	sed -e "s#@STATE@#$state#g" -e "s#@RUN@#$run#g" -e "s#@DRIVER@#$driver#g" \
		"$here/storage.conf" >"$state/storage.conf" || return
	export CONTAINERS_CONF="$state/containers.conf"
	export CONTAINERS_STORAGE_CONF="$state/storage.conf"
	export VOLINIT_E2E_STATE="$state"
}

# Copy what a FROM-scratch volinit image needs into a build context:
# the static volinit as ./volinit and busybox-static as ./busybox.
volinit_stage_binaries() { # CONTEXT_DIR VOLINIT_STATIC
	local ctx=$1 bin=$2 bb
	bb=$(command -v busybox || true)
	[ -x "$bin" ] || { echo "no static volinit at '$bin' (make static)" >&2; return 1; }
	for bb in /bin/busybox /usr/bin/busybox "$bb"; do [ -x "$bb" ] && break; done
	[ -x "$bb" ] || { echo "busybox-static is not installed (apt-get install busybox-static)" >&2; return 1; }
	if ldd "$bb" >/dev/null 2>&1; then
		echo "$bb is dynamically linked; install busybox-static" >&2; return 1
	fi
	mkdir -p "$ctx" && cp "$bin" "$ctx/volinit" && cp "$bb" "$ctx/busybox"
}
