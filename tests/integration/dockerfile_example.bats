#!/usr/bin/env bats
# Dockerfile.example runs as written (issue 23: its `docker run -v
# myapp-data:/data myapp:2` stamped a new volume and then failed with 127,
# there being no /app/run). Its RUN lines that make the placeholder config,
# hook and app are played here under a scratch root ($R in front of every
# absolute path they name), then volinit runs the image's CMD as its
# ENTRYPOINT would: on a new volume (init at 2, the app serves, SIGTERM
# ends it with 0) and on a volume at 1 (the hook migrates it first). The
# image itself needs a registry (tests/e2e/build-real-dockerfiles.sh).

load helpers

setup() {
	common_setup
	R=$T/root
	mkdir -p "$R/etc"
	local script
	# The RUN instructions of the base stage, continuation lines joined.
	script=$(awk '/^FROM .* AS base$/ { t = 1; next } t && /^FROM / { exit }
		t && /^RUN / { r = 1; sub(/^RUN /, "") } r { print; if (!/\\$/) r = 0 }' "$VI_REPO/Dockerfile.example" |
		sed -e "s#/etc/volinit.ini#$R/etc/volinit.ini#g" -e "s#/app\\b#$R/app#g" \
			-e "s#/migrations\\b#$R/migrations#g" -e "s#/data\\b#$R/data#g")
	echo "$script"
	sh -ec "$script"
	CMD=$(sed -n 's/^CMD \["\(.*\)"\]$/\1/p' "$VI_REPO/Dockerfile.example")
	[ "$CMD" = /app/run ]
}

# serve: volinit with the image's config and CMD in the background, until
# the app says it serves; then SIGTERM, as docker stop sends it.
serve() {
	start_bg "$VOLINIT" -c "$R/etc/volinit.ini" -- "$R$CMD"
	local pid=$BG_PID
	wait_for_line "$BG_OUT" '^myapp: serving on schema 2$'
	kill -TERM "$pid"
	wait_exit "$pid"
}

@test "Dockerfile.example: a new volume is initialised at 2, the app serves, docker stop ends it with 0" {
	serve
	[ "$status" -eq 0 ]
	[ "$(cat "$R/data/schema_version.txt")" = 2 ]
	[ ! -e "$R/data/migrated-to-2" ]
}

@test "Dockerfile.example: a volume at 1 is migrated by its hook, then the app serves" {
	echo 1 >"$R/data/schema_version.txt"
	serve
	[ "$status" -eq 0 ]
	[ -e "$R/data/migrated-to-2" ]
	[ "$(cat "$R/data/schema_version.txt")" = 2 ]
}
