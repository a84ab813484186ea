#!/usr/bin/env bats
# examples/kubernetes: the manifests are valid Kubernetes (field names checked
# against the API models of python3-kubernetes), they run (`podman kube play`
# of the Deployment: init container `volinit migrate` on the claim's volume,
# then the app under volinit), and the rollout notes of its README hold: an
# old replica's shared lock makes the new pod's migration wait and exit 75.

load helpers

K8S=$REPO/examples/kubernetes
IMG_K8S=registry.example.com/notes:2

setup_file() {
	e2e_setup_file
	local ctx="$BATS_FILE_TMPDIR/k8s-ctx"
	cp -a "$K8S" "$ctx"
	volinit_stage_binaries "$ctx" "$VOLINIT_STATIC"
	e2e_build "$IMG_K8S" "$ctx"
}

teardown_file() {
	local f
	for f in "$BATS_FILE_TMPDIR"/play-*.yaml; do
		[ -f "$f" ] && podman kube down "$f" >/dev/null 2>&1
	done
	e2e_teardown_file
}

# podman run with a manifest container's command as the entrypoint.
run_manifest_command() { # VOLUME CONTAINER-PATH [PODMAN-ARGS...]
	local vol=$1 path=$2 command
	shift 2
	command=$("$PY" "$E2E_DIR/k8s.py" get "$K8S/deployment.yaml" Deployment notes "$path")
	run podman run --rm -v "$vol:/data" "$@" --entrypoint "$command" "$IMG_K8S"
}

@test "kubernetes manifests: valid YAML, every field name exists in the Kubernetes API, references resolve" {
	run "$PY" "$E2E_DIR/k8s.py" check "$K8S/pvc.yaml" "$K8S/deployment.yaml" "$K8S/migrate-job.yaml"
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
	# What the README promises about the Deployment.
	assert_eq "$("$PY" "$E2E_DIR/k8s.py" get "$K8S/deployment.yaml" Deployment notes spec.strategy.type)" '"Recreate"' "strategy"
	assert_eq "$("$PY" "$E2E_DIR/k8s.py" get "$K8S/deployment.yaml" Deployment notes spec.template.spec.initContainers.0.command)" '["/sbin/volinit", "migrate"]' "init container command"
	assert_eq "$("$PY" "$E2E_DIR/k8s.py" get "$K8S/migrate-job.yaml" Job notes-migrate-2 spec.template.spec.containers.0.command)" '["/sbin/volinit", "migrate"]' "job command"
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
	assert_contains "$output" "image=localhost/volinit-e2e/notes:1"
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
