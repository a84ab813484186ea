#!/usr/bin/env bats
# volinit under Docker Engine (Debian's docker.io) on a private daemon, images
# FROM scratch: `docker stop`, `docker run --init` (tini as PID 1, volinit its
# child), `docker run -it` (a terminal), and the image `make image` builds,
# used as users do: COPY --from=volinit:VERSION /volinit /sbin/volinit.

load docker

setup_file() {
	docker_setup_file
}

teardown_file() {
	docker_teardown_file
}

FATAL_1_2='volinit: FATAL: incompatible persistent state in volume "data" (/data): schema_version=1, expected=2'

@test "docker stop: SIGTERM goes through volinit (PID 1) to the app, which exits 0 far inside the stop timeout" {
	local vol c t0 elapsed logs
	vol=$(new_volume stop)
	c=$(name stop)
	"$DOCKER" run -d --name "$c" --network none -v "$vol:/data" "$IMG_V1" >/dev/null
	wait_log "$c" 'notes v1: serving'
	assert_contains "$("$DOCKER" logs "$c" 2>&1)" "under pid 1 (volinit)"
	t0=$(ms_now)
	"$DOCKER" stop -t 20 "$c" >/dev/null
	elapsed=$(($(ms_now) - t0))
	logs=$("$DOCKER" logs "$c" 2>&1)
	echo "$logs"
	echo "docker stop took ${elapsed} ms (timeout 20000 ms)"
	assert_eq "$(exit_code "$c")" 0 "exit code"
	assert_contains "$logs" "notes v1: SIGTERM received, saving and exiting"
	# A lost signal would have meant 20 s and SIGKILL (137).
	[ "$elapsed" -lt 5000 ]
}

@test "docker stop: an app that keeps SIGTERM's default action dies of it: 143, at once" {
	local vol c t0 elapsed
	vol=$(new_volume stop-default)
	c=$(name stop-default)
	"$DOCKER" run -d --name "$c" --network none -v "$vol:/data" "$IMG_V1" \
		sh -c 'echo up; exec sleep 1000' >/dev/null
	wait_log "$c" '^up$'
	t0=$(ms_now)
	"$DOCKER" stop -t 20 "$c" >/dev/null
	elapsed=$(($(ms_now) - t0))
	echo "docker stop took ${elapsed} ms"
	assert_eq "$(exit_code "$c")" 143 "exit code"
	[ "$elapsed" -lt 5000 ]
}

@test "docker run --init: tini is PID 1, volinit its child still guards: 80 and the FATAL line" {
	local vol c logs
	vol=$(new_volume init-guard)
	seed_v1 "$vol"
	c=$(name init-guard)
	run "$DOCKER" run --init --name "$c" --network none -v "$vol:/data" "$IMG_V2"
	echo "$output"
	assert_eq "$status" 80 "docker run exit code"
	assert_eq "$(exit_code "$c")" 80 "exit code in docker inspect"
	logs=$("$DOCKER" logs "$c" 2>&1)
	assert_eq "$(grep -m1 FATAL <<<"$logs")" "$FATAL_1_2" "first FATAL line"
	refute_contains "$logs" "notes v2"
	assert_eq "$(cat "$(vol_path "$vol")/schema_version.txt")" 1 "schema version"
}

@test "docker run --init: volinit is tini's child, a subreaper that reaps the app's orphans, and passes the status" {
	local vol
	vol=$(new_volume init-reaper)
	# The inner sh leaves a sleep behind and exits: the orphan goes to the
	# nearest subreaper, which must be volinit, not tini (PID 1).
	run "$DOCKER" run --rm --init --network none -v "$vol:/data" "$IMG_V1" sh -c '
		echo "init=$(cat /proc/1/comm) volinit=$PPID ($(cat /proc/$PPID/comm)) under $(awk "{print \$4}" /proc/$PPID/stat)"
		o=$(sh -c "sleep 300 >/dev/null 2>&1 & echo \$!")
		echo "orphan $o parent=$(awk "{print \$4}" /proc/$o/stat)"
		kill $o
		exit 3'
	echo "$output"
	assert_eq "$status" 3 "exit code through volinit and tini"
	assert_contains "$output" "init=docker-init"
	local v
	v=$(sed -n 's/.*volinit=\([0-9]*\) (volinit) under 1$/\1/p' <<<"$output")
	[ -n "$v" ]
	[ "$v" != 1 ]
	assert_contains "$output" "parent=$v"
}

@test "docker run --init: SIGTERM from docker stop reaches the app through tini and volinit" {
	local vol c
	vol=$(new_volume init-stop)
	c=$(name init-stop)
	"$DOCKER" run -d --init --name "$c" --network none -v "$vol:/data" "$IMG_V1" >/dev/null
	wait_log "$c" 'notes v1: serving'
	assert_contains "$("$DOCKER" logs "$c" 2>&1)" "(volinit)"
	"$DOCKER" stop -t 20 "$c" >/dev/null
	assert_eq "$(exit_code "$c")" 0 "exit code"
	assert_contains "$("$DOCKER" logs "$c" 2>&1)" "notes v1: SIGTERM received"
}

@test "docker run -it: a shell under volinit has a working terminal and its exit status comes back" {
	local vol
	vol=$(new_volume tty)
	status=0
	timeout -k 5 120 "$PY" "$PTYSHELL" --timeout 20 --log "$BATS_TEST_TMPDIR/tty" -- \
		"$DOCKER" run -it --rm --network none -e TERM=dumb -v "$vol:/data" "$IMG_V1" sh <<'EOF' || status=$?
expect / # 
send echo "tty=$(tty) fg=$(($(cut -d' ' -f8 /proc/$$/stat) - $(cut -d' ' -f5 /proc/$$/stat))) parent=$(cat /proc/$PPID/comm)"\n
expect tty=/dev/pts/[0-9]+ fg=0 parent=volinit\r\n
send echo $((6 * 7))\n
expect 42\r\n
send exit 5\n
eof
EOF
	cat -v "$BATS_TEST_TMPDIR/tty"
	assert_eq "$status" 5 "docker run -it exit code"
}

@test "docker run -it: Ctrl-C reaches the app, whose own status comes back" {
	local vol
	vol=$(new_volume tty-int)
	status=0
	timeout -k 5 120 "$PY" "$PTYSHELL" --timeout 20 --log "$BATS_TEST_TMPDIR/tty" -- \
		"$DOCKER" run -it --rm --network none -v "$vol:/data" "$IMG_V1" \
		sh -c 'trap "echo got-INT; exit 7" INT; echo running; while :; do sleep 1; done' <<'EOF' || status=$?
expect running\r\n
send \x03
expect got-INT
eof
EOF
	cat -v "$BATS_TEST_TMPDIR/tty"
	assert_eq "$status" 7 "docker run -it exit code"
}

@test "make image: FROM scratch images holding only /volinit; an app image takes it with COPY --from=volinit:VERSION" {
	local version ctx a out
	version=$(cat "$REPO/VERSION")
	# make image builds the release binaries first when they are missing,
	# for this machine's architecture only unless IMAGE_ARCHES names more.
	"$DOCKER" rmi -f "volinit:$version-arm64" >/dev/null 2>&1 || true
	run make -s -C "$REPO" image IMAGE_ENGINE="$DOCKER" IMAGE_NAME=volinit
	echo "$output"
	assert_eq "$status" 0 "make image"
	assert_eq "$("$DOCKER" inspect -f '{{.Architecture}}' "volinit:$version-amd64")" amd64 "this machine's image"
	run "$DOCKER" image inspect "volinit:$version-arm64"
	assert_eq "$status" 1 "no arm64 image unless asked for"
	run make -s -C "$REPO" image IMAGE_ENGINE="$DOCKER" IMAGE_NAME=volinit IMAGE_ARCHES="amd64 arm64"
	echo "$output"
	assert_eq "$status" 0 "make image IMAGE_ARCHES=\"amd64 arm64\""
	for a in amd64 arm64; do
		assert_eq "$("$DOCKER" inspect -f '{{.Architecture}}' "volinit:$version-$a")" "$a" "architecture of volinit:$version-$a"
		# One layer, one file: /volinit.
		assert_eq "$("$DOCKER" inspect -f '{{len .RootFS.Layers}}' "volinit:$version-$a")" 1 "layers"
		out=$("$DOCKER" create "volinit:$version-$a")
		assert_eq "$("$DOCKER" export "$out" | tar -t | grep -v -e '^\.dockerenv$' -e '^dev/' -e '^etc/' -e '^proc/' -e '^sys/' -e '/$' | tr '\n' ' ')" "volinit " "files in the image"
		"$DOCKER" rm "$out" >/dev/null
	done
	assert_eq "$("$DOCKER" inspect -f '{{.Id}}' "volinit:$version")" "$("$DOCKER" inspect -f '{{.Id}}' "volinit:$version-amd64")" "volinit:$version"
	run "$DOCKER" run --rm --network none "volinit:$version" --version
	assert_eq "$output" "volinit $version" "--version"

	# What Dockerfile.example shows first: the binary copied from the image
	# of this version.
	assert_eq "$(grep -m1 '^COPY --from=' "$REPO/Dockerfile.example")" \
		"COPY --from=volinit:$version /volinit /sbin/volinit" "Dockerfile.example's first COPY --from"
	ctx=$BATS_TEST_TMPDIR/app
	mkdir -p "$ctx"
	cp "$E2E_DIR/images/v2/volinit.ini" "$ctx/volinit.ini"
	cat >"$ctx/Containerfile" <<EOF
FROM $IMG_BASE
COPY --from=volinit:$version /volinit /sbin/volinit
COPY volinit.ini /etc/volinit.ini
ENV APP_VERSION=2
EOF
	e2e_build localhost/volinit-e2e/app:copied "$ctx"
	run "$DOCKER" run --rm --network none --entrypoint /sbin/volinit localhost/volinit-e2e/app:copied --version
	assert_eq "$output" "volinit $version" "--version of the copied binary"
	local vol
	vol=$(new_volume copied)
	seed_v1 "$vol"
	run "$DOCKER" run --rm --network none -v "$vol:/data" localhost/volinit-e2e/app:copied
	echo "$output"
	assert_eq "$status" 80 "exit code"
	assert_contains "$output" "$FATAL_1_2"
}
