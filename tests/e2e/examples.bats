#!/usr/bin/env bats
# The examples run here as their READMEs say: make demo-container (S003) and
# the stateful-service script print every line their READMEs show; each
# example has its README, Containerfile and a volinit.ini that volinit's own
# parser accepts; Dockerfile.example has the shape the README promises.
# (kubernetes.bats and postgres.bats run the other two examples.)

load helpers

setup_file() {
	e2e_setup_file --no-images
}

teardown_file() {
	e2e_teardown_file
}

@test "examples: each has README.md, a Containerfile and a volinit.ini that volinit parses" {
	local d ini
	for d in s003-stale-volume postgres-major-version stateful-service kubernetes; do
		ini="$REPO/examples/$d/volinit.ini"
		[ -s "$REPO/examples/$d/README.md" ] || { echo "$d: no README.md" >&2; return 1; }
		[ -s "$REPO/examples/$d/Containerfile" ] || { echo "$d: no Containerfile" >&2; return 1; }
		[ -s "$ini" ] || { echo "$d: no volinit.ini" >&2; return 1; }
		# The volumes' paths do not exist here, so check refuses (66 or
		# another guard code); a config error would be 78, usage 64.
		run "$VOLINIT_STATIC" check -c "$ini"
		echo "$d: $status: $output"
		[ "$status" -ne 78 ]
		[ "$status" -ne 64 ]
		refute_contains "$output" "volinit.ini:"
	done
}

@test "make demo-container (examples/demo-container.sh): the S003 story runs and prints what the S003 README shows" {
	local out="$BATS_TEST_TMPDIR/demo.out"
	DEMO_VOLUME="$E2E_PREFIX-s003" run bash "$REPO/examples/demo-container.sh" "$VOLINIT_STATIC"
	printf '%s\n' "$output" >"$out"
	echo "$output"
	assert_eq "$status" 0 "demo-container.sh"
	assert_contains "$output" "(exit code 80)"
	"$PY" "$E2E_DIR/readme_check.py" "$REPO/examples/s003-stale-volume/README.md" "$out" \
		"volinit: " "notes v" "hook: " "version:" "expected:" "state:" "a start:"
	[ -z "$(podman volume ls -q --filter name="$E2E_PREFIX-s003")" ]
}

@test "stateful-service: restarts and a crash keep sessions, journal and counters; status reads the stopped service's volume; output as in its README" {
	local out="$BATS_TEST_TMPDIR/stateful.out"
	DEMO_VOLUME="$E2E_PREFIX-sessiond" DEMO_CONTAINER="$E2E_PREFIX-sessiond" \
		run bash "$REPO/examples/stateful-service/run.sh" "$VOLINIT_STATIC"
	printf '%s\n' "$output" >"$out"
	echo "$output"
	assert_eq "$status" 0 "run.sh"
	assert_contains "$output" "sessiond: unclean shutdown detected (boot 3): replayed 5 journal entries"
	assert_contains "$output" "counters: boots=3 clean_stops=2 requests=5"
	assert_contains "$output" "sessions: alice carol dave"
	"$PY" "$E2E_DIR/readme_check.py" "$REPO/examples/stateful-service/README.md" "$out" \
		"volinit: " "sessiond: " "sessions: " "journal: " "counters: " "version:" "state:" "a start:"
	grep -Eq '^ +locked: +shared, by an app expecting 1: host=[0-9a-f]+ pid=1 since=[0-9T:.Z-]+ expects=1 role=app image=localhost/examples/sessiond:1$' "$out"
}

@test "Dockerfile.example: multi-stage, Debian builder with libcap-dev and libinih-dev running make static, /sbin/volinit as ENTRYPOINT, VOLINIT_IMAGE from a build argument" {
	local f="$REPO/Dockerfile.example" src
	[ "$(grep -c '^FROM ' "$f")" -ge 2 ]
	grep -Eq '^FROM docker.io/library/debian:12 AS ' "$f"
	grep -q 'libcap-dev' "$f"
	grep -q 'libinih-dev' "$f"
	grep -Eq '^RUN make static' "$f"
	grep -Eq '^COPY --from=[a-z-]+ /src/build/volinit-static /sbin/volinit$' "$f"
	grep -qx 'ENTRYPOINT \["/sbin/volinit", "--"\]' "$f"
	grep -qx 'ARG IMAGE_REF=.*' "$f"
	grep -qx 'ENV VOLINIT_IMAGE=$IMAGE_REF' "$f"
	# Everything it copies from the build context exists.
	for src in $(awk '$1 == "COPY" && $2 !~ /^--/ { for (i = 2; i < NF; i++) print $i }' "$f"); do
		[ -e "$REPO/$src" ] || { echo "Dockerfile.example copies $src, which does not exist" >&2; return 1; }
	done
	# The Makefile target it runs builds what it copies.
	grep -q '^static:' "$REPO/Makefile"
	grep -q 'volinit-static' "$REPO/Makefile"
}
