#!/usr/bin/env bats
# examples/kubernetes: the manifests are valid Kubernetes (field names checked
# against the API models of python3-kubernetes), they run (`podman kube play`
# of the Deployment: init container `volinit migrate` on the claim's volume,
# then the app under volinit), and the rollout notes of its README hold: an
# old replica's shared lock makes the new pod's migration wait and exit 75.
# The rolling update with readers: notes:3 (deployment-rolling.yaml) played
# beside the serving notes:2 pod on the same claim migrates 2 -> 3 online;
# the contract Job (notes:4, contract-job.yaml) runs once both are down and
# closes the window.

load helpers

K8S=$REPO/examples/kubernetes
IMG_K8S=registry.example.com/notes:2
# examples/kubernetes/rolling: the expand image (readers = 2), the contract one.
IMG_K8S3=registry.example.com/notes:3
IMG_K8S4=registry.example.com/notes:4

setup_file() {
	e2e_setup_file
	local ctx="$BATS_FILE_TMPDIR/k8s-ctx" v
	cp -a "$K8S" "$ctx"
	volinit_stage_binaries "$ctx" "$VOLINIT_STATIC"
	e2e_build "$IMG_K8S" "$ctx"
	for v in 3 4; do
		e2e_build "registry.example.com/notes:$v" "$ctx" -f "$ctx/rolling/Containerfile" \
			--build-arg APP_VERSION=$v
	done
}

teardown_file() {
	local f
	for f in "$BATS_FILE_TMPDIR"/play-*.yaml; do
		[ -f "$f" ] && podman kube down "$f" >/dev/null 2>&1
	done
	e2e_teardown_file
}

# The expand step of the rolling update, played: the claim's volume at
# schema 1; deployment.yaml (notes:2, its init container migrates 1 -> 2)
# serving; then deployment-rolling.yaml (notes:3) played beside it on the
# same claim, as a RollingUpdate runs the new ReplicaSet's pod beside the old
# one. Sets VOL, MP (its directory), OLD and NEW (the pods), OLD_STARTED (when
# the notes:2 container started) and PLAY_V2, PLAY_V3 (the played files,
# taken down by teardown_file).
rolling_expand() { # TAG
	local tag=$1
	VOL=$(new_volume "$tag-notes-data")
	seed_v1 "$VOL"
	MP=$(vol_path "$VOL")
	PLAY_V2="$BATS_FILE_TMPDIR/play-$tag-v2.yaml"
	PLAY_V3="$BATS_FILE_TMPDIR/play-$tag-v3.yaml"
	"$PY" "$E2E_DIR/k8s.py" play "$K8S/deployment.yaml" --prefix "$E2E_PREFIX-$tag-" \
		--restart OnFailure >"$PLAY_V2"
	# The claim is the same: the suffix goes on the Deployment's name only.
	"$PY" "$E2E_DIR/k8s.py" play "$K8S/deployment-rolling.yaml" --prefix "$E2E_PREFIX-$tag-" \
		--name-suffix -v3 --restart OnFailure >"$PLAY_V3"
	OLD="$E2E_PREFIX-$tag-notes-pod-0"
	NEW="$E2E_PREFIX-$tag-notes-v3-pod-0"
	run timeout "$E2E_TIMEOUT" podman kube play "$PLAY_V2"
	echo "$output"
	assert_eq "$status" 0 "podman kube play of notes:2"
	wait_log "$OLD-notes" 'notes v2: serving 2 sessions'
	assert_eq "$(cat "$MP/schema_version.txt")" 2 "schema version before the rollout"
	OLD_STARTED=$(podman inspect -f '{{.State.StartedAt}}' "$OLD-notes")
	cat "$PLAY_V3"
	run timeout "$E2E_TIMEOUT" podman kube play "$PLAY_V3"
	echo "$output"
	assert_eq "$status" 0 "podman kube play of notes:3"
	wait_log "$NEW-notes" 'notes v3: serving 2 sessions of 2 users'
}

# The notes:2 container of the expand step: still running, never restarted,
# never signalled, the same start as before the rollout.
old_pod_untouched() {
	local log
	log=$(podman logs "$OLD-notes" 2>&1)
	echo "$log"
	assert_eq "$(podman inspect -f '{{.State.Status}}' "$OLD-notes")" running "notes:2 state"
	assert_eq "$(podman inspect -f '{{.RestartCount}}' "$OLD-notes")" 0 "notes:2 restarts"
	assert_eq "$(podman inspect -f '{{.State.StartedAt}}' "$OLD-notes")" "$OLD_STARTED" "notes:2 start time"
	assert_eq "$(grep -c 'notes v2: starting' <<<"$log")" 1 "notes:2 starts"
	refute_contains "$log" "SIGTERM"
}

# The README's code-block lines that start with one of the PREFIXes are lines
# of OUTPUT (readme_check.py), host names and times aside: the README quotes
# one run, whose pods and containers were named after that run.
readme_shows() { # OUTPUT PREFIX...
	local out=$1 norm='s/host=[^ ]*/host=HOST/g; s/since=[^ ]*/since=SINCE/g'
	shift
	sed -E "$norm" "$K8S/README.md" >"$BATS_TEST_TMPDIR/README.md"
	sed -E "$norm" <<<"$out" >"$BATS_TEST_TMPDIR/output"
	"$PY" "$E2E_DIR/readme_check.py" "$BATS_TEST_TMPDIR/README.md" "$BATS_TEST_TMPDIR/output" "$@"
}

# podman run with a manifest container's command as the entrypoint.
run_manifest_command() { # VOLUME CONTAINER-PATH [PODMAN-ARGS...]
	local vol=$1 path=$2 command
	shift 2
	command=$("$PY" "$E2E_DIR/k8s.py" get "$K8S/deployment.yaml" Deployment notes "$path")
	run podman run --rm -v "$vol:/data" "$@" --entrypoint "$command" "$IMG_K8S"
}

@test "kubernetes manifests: valid YAML, every field name exists in the Kubernetes API, references resolve" {
	run "$PY" "$E2E_DIR/k8s.py" check "$K8S/pvc.yaml" "$K8S/deployment.yaml" "$K8S/migrate-job.yaml" \
		"$K8S/deployment-rolling.yaml" "$K8S/contract-job.yaml" "$K8S/pvc-rwx.yaml" "$K8S/deployment-rwx.yaml"
	echo "$output"
	assert_eq "$status" 0 "k8s.py check"
	# The check has teeth: a misspelt field, a field in the wrong place and a
	# dangling claim are all caught.
	sed 's/mountPath:/mountpath:/' "$K8S/deployment.yaml" >"$BATS_TEST_TMPDIR/bad1.yaml"
	run "$PY" "$E2E_DIR/k8s.py" check "$K8S/pvc.yaml" "$BATS_TEST_TMPDIR/bad1.yaml"
	assert_eq "$status" 1 "k8s.py check of a broken manifest"
	assert_contains "$output" "mountpath: no such field in V1VolumeMount"
	sed 's/^  strategy:/  template_strategy:/' "$K8S/deployment.yaml" >"$BATS_TEST_TMPDIR/bad2.yaml"
	run "$PY" "$E2E_DIR/k8s.py" check "$K8S/pvc.yaml" "$BATS_TEST_TMPDIR/bad2.yaml"
	assert_eq "$status" 1 "k8s.py check of a broken manifest"
	assert_contains "$output" "no such field in V1DeploymentSpec"
	run "$PY" "$E2E_DIR/k8s.py" check "$K8S/deployment.yaml"
	assert_eq "$status" 1 "k8s.py check of a broken manifest"
	assert_contains "$output" "claim notes-data is not defined"
	# The ReadWriteMany variant: its claim, several replicas, each migrating first.
	assert_eq "$("$PY" "$E2E_DIR/k8s.py" get "$K8S/pvc-rwx.yaml" PersistentVolumeClaim notes-data-rwx spec.accessModes)" '["ReadWriteMany"]' "rwx access mode"
	assert_eq "$("$PY" "$E2E_DIR/k8s.py" get "$K8S/deployment-rwx.yaml" Deployment notes-rwx spec.replicas)" 3 "rwx replicas"
	# What the README promises about the Deployment.
	assert_eq "$("$PY" "$E2E_DIR/k8s.py" get "$K8S/deployment.yaml" Deployment notes spec.strategy.type)" '"Recreate"' "strategy"
	assert_eq "$("$PY" "$E2E_DIR/k8s.py" get "$K8S/deployment.yaml" Deployment notes spec.template.spec.initContainers.0.command)" '["/sbin/volinit", "migrate"]' "init container command"
	assert_eq "$("$PY" "$E2E_DIR/k8s.py" get "$K8S/migrate-job.yaml" Job notes-migrate-2 spec.template.spec.containers.0.command)" '["/sbin/volinit", "migrate"]' "job command"
	# The rolling update: the same Deployment with RollingUpdate (the new
	# pod beside the old one until it is up) and notes:3 in both
	# containers; the contract Job with notes:4.
	local rolling=$K8S/deployment-rolling.yaml p=spec.template.spec
	assert_eq "$("$PY" "$E2E_DIR/k8s.py" get "$rolling" Deployment notes spec.strategy)" \
		'{"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}' "rolling strategy"
	assert_eq "$("$PY" "$E2E_DIR/k8s.py" get "$rolling" Deployment notes $p.initContainers.0.command)" '["/sbin/volinit", "migrate"]' "rolling init container command"
	assert_eq "$("$PY" "$E2E_DIR/k8s.py" get "$rolling" Deployment notes $p.initContainers.0.image)" "\"$IMG_K8S3\"" "rolling init container image"
	assert_eq "$("$PY" "$E2E_DIR/k8s.py" get "$rolling" Deployment notes $p.containers.0.image)" "\"$IMG_K8S3\"" "rolling image"
	assert_eq "$("$PY" "$E2E_DIR/k8s.py" get "$rolling" Deployment notes $p.volumes.0.persistentVolumeClaim.claimName)" '"notes-data"' "rolling claim"
	assert_eq "$("$PY" "$E2E_DIR/k8s.py" get "$K8S/contract-job.yaml" Job notes-migrate-4 $p.containers.0.command)" '["/sbin/volinit", "migrate"]' "contract job command"
	assert_eq "$("$PY" "$E2E_DIR/k8s.py" get "$K8S/contract-job.yaml" Job notes-migrate-4 $p.containers.0.image)" "\"$IMG_K8S4\"" "contract job image"
	# The two images' configs: volinit parses them (here, with no volume at
	# /data, check refuses with a guard's code, never 78 or 64); readers = 2
	# in the expand one only.
	local ini
	for ini in "$K8S"/rolling/volinit-3.ini "$K8S"/rolling/volinit-4.ini; do
		run "$VOLINIT_STATIC" check -c "$ini"
		echo "$ini: $status: $output"
		[ "$status" -ne 78 ]
		[ "$status" -ne 64 ]
		refute_contains "$output" "volinit-"
	done
	assert_eq "$(grep -E '^(expected|readers) ' "$K8S/rolling/volinit-3.ini" | tr -s ' ')" "expected = 3
readers = 2" "volinit-3.ini"
	assert_eq "$(grep -E '^(expected|readers) ' "$K8S/rolling/volinit-4.ini" | tr -s ' ')" "expected = 4" "volinit-4.ini"
}

@test "kube play: the Deployment's init container migrates the claim's volume, then the app runs under volinit" {
	local vol mp play pod
	vol=$(new_volume notes-data)
	seed_v1 "$vol"
	mp=$(vol_path "$vol")
	play="$BATS_FILE_TMPDIR/play-deployment.yaml"
	# The claim notes-data is the run's volume E2E_PREFIX-notes-data; the
	# image is the one built from examples/kubernetes/Containerfile.
	"$PY" "$E2E_DIR/k8s.py" play "$K8S/deployment.yaml" --prefix "$E2E_PREFIX-" \
		--restart OnFailure >"$play"
	cat "$play"
	run timeout "$E2E_TIMEOUT" podman kube play "$play"
	echo "$output"
	assert_eq "$status" 0 "podman kube play"
	pod="$E2E_PREFIX-notes-pod-0"
	wait_log "$pod-notes" 'notes v2: serving 2 sessions'
	podman logs "$pod-notes"
	assert_contains "$(podman logs "$pod-notes" 2>&1)" "under pid 1 (volinit), volume schema 2"
	assert_eq "$(cat "$mp/schema_version.txt")" 2 "schema version"
	assert_eq "$(count_lines "$mp/migrations.log")" 1 "hook runs"
	# The migration ran in the init container, not in the app's volinit.
	refute_contains "$(podman logs "$pod-notes" 2>&1)" "migrating"
	grep -q '"event":"step_ok".*"image":"registry.example.com/notes:2"\|"image":"registry.example.com/notes:2".*"event":"step_ok"' "$mp/.volinit/journal.jsonl"
	podman kube down "$play" >/dev/null
}

@test "RollingUpdate stalls: an old replica still serving makes the new pod's migration wait, then exit 75 naming it" {
	local vol old t0 t1
	vol=$(new_volume rolling)
	seed_v1 "$vol"
	old=$(name rolling-old)
	podman run -d --name "$old" -v "$vol:/data" "$IMG_V1" >/dev/null
	wait_log "$old" 'notes v1: serving'
	# The new pod's init container, with lock_timeout 3 instead of 60.
	sed 's/^lock_timeout .*/lock_timeout  = 3/' "$K8S/volinit.ini" >"$BATS_TEST_TMPDIR/volinit.ini"
	t0=$(ms_now)
	run_manifest_command "$vol" spec.template.spec.initContainers.0.command \
		-v "$BATS_TEST_TMPDIR/volinit.ini:/etc/volinit.ini:ro"
	t1=$(ms_now)
	echo "$output"
	echo "took $((t1 - t0)) ms"
	assert_eq "$status" 75 "migrate exit code"
	# The FATAL line and hint the README quotes: the holder with the
	# version it expects, and the two ways out.
	grep -Eq '^volinit: FATAL: volume "data" \(/data\): timed out after 3 s waiting for the exclusive lock; held by: an app expecting 1: host=[0-9a-f]+ pid=1 since=[0-9T:.Z-]+ expects=1 role=app image=localhost/volinit-e2e/notes:1$' <<<"$output"
	assert_contains "$output" "volinit: hint: another volinit is migrating this volume or running an app on it that cannot run beside this migration; stop the old containers (Kubernetes: strategy Recreate, or readers = the old version for a rolling update), then start again"
	readme_shows "$output" 'volinit: FATAL: volume "data" (/data): timed out after 3 s waiting for the exclusive lock; held by: an app expecting 1:' \
		'volinit: hint: another volinit is migrating'
	[ $((t1 - t0)) -ge 3000 ]
	# Nothing was migrated under the running app.
	assert_eq "$(cat "$(vol_path "$vol")/schema_version.txt")" 1 "schema version"
	# Recreate: once the old replica is gone the same migration goes through.
	podman stop -t 20 "$old" >/dev/null
	run_manifest_command "$vol" spec.template.spec.initContainers.0.command
	echo "$output"
	assert_eq "$status" 0 "migrate exit code after the old replica stopped"
	assert_eq "$(cat "$(vol_path "$vol")/schema_version.txt")" 2 "schema version"
}

@test "a second replica's init container finds the volume current and exits 0 at once, though the first replica's app holds the lock" {
	local vol first t0 t1
	vol=$(new_volume replicas)
	seed_v1 "$vol"
	# Replica 1: its init container migrates, its app starts and holds the
	# shared lock (ReadWriteMany, replicas: 2).
	run_manifest_command "$vol" spec.template.spec.initContainers.0.command
	assert_eq "$status" 0 "first migrate"
	first=$(name replica-1)
	podman run -d --name "$first" -v "$vol:/data" "$IMG_K8S" >/dev/null
	wait_log "$first" 'notes v2: serving 2 sessions'
	# Replica 2: nothing to migrate. It must not queue for the exclusive lock
	# behind replica 1's app (that would end in 75 and CrashLoopBackOff).
	sed 's/^lock_timeout .*/lock_timeout  = 5/' "$K8S/volinit.ini" >"$BATS_TEST_TMPDIR/volinit.ini"
	t0=$(ms_now)
	run_manifest_command "$vol" spec.template.spec.initContainers.0.command \
		-v "$BATS_TEST_TMPDIR/volinit.ini:/etc/volinit.ini:ro"
	t1=$(ms_now)
	echo "$output"
	echo "took $((t1 - t0)) ms"
	assert_eq "$status" 0 "second migrate exit code"
	[ $((t1 - t0)) -lt 4000 ]
}

@test "RollingUpdate with readers (expand): notes:3's init container migrates 2 -> 3 online while the notes:2 pod keeps serving; both serve; the window is on the volume" {
	local js out
	rolling_expand expand
	js="$MP/.volinit/journal.jsonl"
	cat "$js"
	# The step ran once, in the notes:3 pod's init container, online: no
	# snapshot, nothing left dirty.
	assert_eq "$(cat "$MP/schema_version.txt")" 3 "schema version"
	assert_eq "$(grep -c '^2->3 by ' "$MP/migrations.log")" 1 "2 -> 3 hook runs"
	assert_eq "$(grep '^2->3 by ' "$MP/migrations.log")" "2->3 by $NEW" "the hook ran in"
	assert_eq "$(grep -c '"event":"migrate_begin"' "$js")" 2 "migrations (1 -> 2, 2 -> 3)"
	grep '"event":"migrate_begin"' "$js" | tail -1 | grep -q "\"host\":\"$NEW\",\"pid\":1,\"image\":\"$IMG_K8S3\",.*\"from\":2,\"to\":3,\"detail\":\"online (readers 2): no snapshot\""
	[ ! -e "$MP/.volinit/snapshot" ]
	[ ! -e "$MP/.volinit/dirty" ]
	assert_eq "$(cat "$MP/.volinit/readers")" "readers=2 versions=2-3" ".volinit/readers"
	assert_eq "$(cat "$MP/users/alice") $(cat "$MP/users/bob")" "s1 s2" "users/"
	assert_eq "$(cat "$MP/sessions/s1") $(cat "$MP/sessions/s2")" "user=alice user=bob" "sessions/ (kept for notes:2)"
	# The notes:2 pod went on through it, and both serve side by side.
	old_pod_untouched
	assert_eq "$(podman inspect -f '{{.State.Status}}' "$NEW-notes")" running "notes:3 state"
	# (its own pid differs from run to run: what matters is PID 1 and the schema)
	grep -Eq '^notes v3: starting as pid [0-9]+ under pid 1 \(volinit\), volume schema 3$' <<<"$(podman logs "$NEW-notes" 2>&1)"
	# notes:2's code reads the expanded data: in its running container, and
	# in a notes:2 replica that restarts during the rollout (a new volinit
	# guard: 3 is inside the window, no 81).
	run podman exec "$OLD-notes" /app/notes once
	echo "$output"
	assert_eq "$status" 0 "notes:2 once in its pod"
	assert_contains "$output" "notes v2: serving 2 sessions"
	run podman run --rm -v "$VOL:/data" "$IMG_K8S" /app/notes once
	echo "$output"
	assert_eq "$status" 0 "a notes:2 replica restarting inside the window"
	grep -Eq '^notes v2: starting as pid [0-9]+ under pid 1 \(volinit\), volume schema 3$' <<<"$output"
	assert_contains "$output" "notes v2: serving 2 sessions"
	# A rollback to notes:2 (kubectl rollout undo): its init container
	# finds nothing to do inside the window.
	run_manifest_command "$VOL" spec.template.spec.initContainers.0.command
	echo "$output"
	assert_eq "$status" 0 "notes:2's init container inside the window"
	assert_eq "$(cat "$MP/schema_version.txt")" 3 "schema version after it"
	# Outside the window: the e2e suite's notes:1 gets 81, naming it.
	run podman run --rm -v "$VOL:/data" "$IMG_V1"
	echo "$output"
	assert_eq "$status" 81 "notes:1 on schema 3"
	assert_contains "$output" 'volinit: FATAL: incompatible persistent state in volume "data" (/data): schema_version=3, expected=1, readers=2'
	refute_contains "$output" "notes v1:"
	# status (offline, from the image) shows the window and both holders.
	run podman run --rm -v "$VOL:/data" --entrypoint /sbin/volinit "$IMG_K8S3" status
	echo "$output"
	assert_eq "$status" 0 "volinit status"
	out=$output
	assert_contains "$out" "readers:      2 (images expecting 2 to 3 start on it)"
	assert_contains "$out" "state:        current"
	grep -Eq "^  locked: +shared, by an app expecting 2: host=$OLD pid=1 since=[0-9T:.Z-]+ expects=2 role=app image=registry.example.com/notes:2; an app expecting 3: host=$NEW pid=1 since=[0-9T:.Z-]+ expects=3 role=app image=registry.example.com/notes:3\$" <<<"$out"
	readme_shows "$out" "version:" "readers:" "expected:" "state:" "locked:"
	# Still nothing restarted: the status run and the replica came and went.
	old_pod_untouched
	podman kube down "$PLAY_V3" >/dev/null
	podman kube down "$PLAY_V2" >/dev/null
}

@test "contract: notes:4's Job waits for the running notes:2 and notes:3 pods (75), runs once both are down, closes the window: notes:2 and notes:3 get 81, notes:4 runs" {
	local job t0 t1 out
	rolling_expand contract
	job=$("$PY" "$E2E_DIR/k8s.py" get "$K8S/contract-job.yaml" Job notes-migrate-4 spec.template.spec.containers.0.command)
	# The Job run before scaling to zero: no readers, so it is offline and
	# waits for every app (lock_timeout 3 instead of 60), naming both.
	sed 's/^lock_timeout .*/lock_timeout  = 3/' "$K8S/rolling/volinit-4.ini" >"$BATS_TEST_TMPDIR/volinit.ini"
	t0=$(ms_now)
	run podman run --rm -v "$VOL:/data" -v "$BATS_TEST_TMPDIR/volinit.ini:/etc/volinit.ini:ro" \
		--entrypoint "$job" "$IMG_K8S4"
	t1=$(ms_now)
	echo "$output"
	echo "took $((t1 - t0)) ms"
	assert_eq "$status" 75 "contract job beside the apps"
	[ $((t1 - t0)) -ge 3000 ]
	grep -Eq "^volinit: FATAL: volume \"data\" \(/data\): timed out after 3 s waiting for the exclusive lock; held by: an app expecting 2: host=$OLD pid=1 .* image=registry.example.com/notes:2; an app expecting 3: host=$NEW pid=1 .* image=registry.example.com/notes:3\$" <<<"$output"
	readme_shows "$output" 'volinit: FATAL: volume "data" (/data): timed out after 3 s waiting for the exclusive lock; held by: an app expecting 2:'
	assert_eq "$(cat "$MP/schema_version.txt")" 3 "schema version after the 75"
	assert_eq "$(count_lines "$MP/migrations.log")" 2 "hook runs after the 75"
	old_pod_untouched
	# Scale to zero: both pods down (their volinits end with their apps and
	# drop their locks), then the Job.
	podman kube down "$PLAY_V3" >/dev/null
	podman kube down "$PLAY_V2" >/dev/null
	[ -z "$(podman ps -a -q --filter name="^$E2E_PREFIX-contract-")" ]
	run podman run --rm -v "$VOL:/data" --entrypoint "$job" "$IMG_K8S4"
	echo "$output"
	assert_eq "$status" 0 "contract job"
	assert_contains "$output" "migrating 3 -> 4 in 1 step"
	assert_contains "$output" "migrated to 4"
	assert_eq "$(cat "$MP/schema_version.txt")" 4 "schema version"
	assert_eq "$(grep -c '^3->4 by ' "$MP/migrations.log")" 1 "3 -> 4 hook runs"
	[ ! -e "$MP/sessions" ]
	assert_eq "$(cat "$MP/users/alice") $(cat "$MP/users/bob")" "s1 s2" "users/"
	# Offline: no "online" in its migrate_begin; the window closed.
	grep '"event":"migrate_begin"' "$MP/.volinit/journal.jsonl" | tail -1 | grep -q '"from":3,"to":4,"detail":null'
	[ ! -e "$MP/.volinit/readers" ]
	[ ! -e "$MP/.volinit/snapshot" ]
	# The Deployment with notes:4 (kubectl set image): its init container
	# finds nothing to do, the app runs.
	"$PY" "$E2E_DIR/k8s.py" play "$K8S/deployment-rolling.yaml" --prefix "$E2E_PREFIX-contract-" \
		--name-suffix -v4 --image "$IMG_K8S3=$IMG_K8S4" --restart OnFailure >"$BATS_FILE_TMPDIR/play-contract-v4.yaml"
	run timeout "$E2E_TIMEOUT" podman kube play "$BATS_FILE_TMPDIR/play-contract-v4.yaml"
	echo "$output"
	assert_eq "$status" 0 "podman kube play of notes:4"
	wait_log "$E2E_PREFIX-contract-notes-v4-pod-0-notes" 'notes v4: serving 2 sessions of 2 users'
	# notes:2 and notes:3 now refuse: 4 is outside every window.
	run podman run --rm -v "$VOL:/data" "$IMG_K8S"
	echo "$output"
	assert_eq "$status" 81 "notes:2 after the contract"
	assert_contains "$output" 'volinit: FATAL: incompatible persistent state in volume "data" (/data): schema_version=4, expected=2'
	readme_shows "$output" "volinit: FATAL: incompatible" "volinit: hint: the data at 4"
	refute_contains "$output" "readers="
	refute_contains "$output" "notes v2:"
	run podman run --rm -v "$VOL:/data" "$IMG_K8S3"
	echo "$output"
	assert_eq "$status" 81 "notes:3 after the contract"
	assert_contains "$output" 'volinit: FATAL: incompatible persistent state in volume "data" (/data): schema_version=4, expected=3'
	assert_contains "$output" "volinit: hint: the data at 4 can be used only by images that expect 4"
	refute_contains "$output" "notes v3:"
	run podman run --rm -v "$VOL:/data" --entrypoint /sbin/volinit "$IMG_K8S4" status
	echo "$output"
	# Window closed, notes:4 declares none: status shows no readers line.
	refute_contains "$output" "readers:"
	grep -Eq "^  locked: +shared, by an app expecting 4: host=$E2E_PREFIX-contract-notes-v4-pod-0 pid=1 since=[0-9T:.Z-]+ expects=4 role=app image=registry.example.com/notes:4\$" <<<"$output"
	assert_eq "$(podman inspect -f '{{.State.Status}}' "$E2E_PREFIX-contract-notes-v4-pod-0-notes")" running "notes:4 state"
	podman kube down "$BATS_FILE_TMPDIR/play-contract-v4.yaml" >/dev/null
}
