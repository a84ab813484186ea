# Sourced by run.sh: what each crash scenario runs and which outcomes are
# correct after the next start. Each scenario_NAME sets:
#   TEMPLATE  the image the trial starts from (empty, base, v1, dirty2)
#   KEYS      the volume's config keys (path and migrations are added)
#   RUN       volinit's arguments for the run that is cut (@CONF: the config)
#   HOOK_ENV  environment for that run's hooks
#   ACCEPT    the correct end states, "name:version:manifest:exit" each: the
#             version file, the data (reference manifest) and the exit code
#             of the next start, `volinit -c CONF -- true`
#   DIRTY_OK  1 where an interrupted step may end in 83 (snapshot = false)
#   MODE      points (every durability call) or random (random-time cuts
#             through the first seconds of PROGRAM)
CRASH_SCENARIOS="init adopt migrate migrate-nosnap online restore stamp start"

scenario_init() { # empty volume, on_missing = init
	TEMPLATE=empty KEYS="expected = 1
on_missing = init" RUN=(-c @CONF -- true) HOOK_ENV=() ACCEPT="new:1:empty:0" DIRTY_OK=0 MODE=points
}

scenario_adopt() { # data without a version file, adopted at its baseline
	TEMPLATE=base KEYS="expected = 1
baseline = 1" RUN=(-c @CONF -- true) HOOK_ENV=() ACCEPT="new:1:v1:0" DIRTY_OK=0 MODE=points
}

# volinit migrate with on_older = fail: the next start migrates nothing,
# so what the crash left is what is judged (old, after step 2, or new).
scenario_migrate() { # 1 -> 3 in two hooks, snapshot first
	TEMPLATE=v1 KEYS="expected = 3
on_older = fail
snapshot = true" RUN=(migrate -c @CONF) HOOK_ENV=() DIRTY_OK=0 MODE=points \
	ACCEPT="old:1:v1:80 mid:2:v2:80 new:3:v3:0"
}

scenario_migrate-nosnap() { # the same without snapshot: 83 is a correct end
	TEMPLATE=v1 KEYS="expected = 3
on_older = fail
snapshot = false" RUN=(migrate -c @CONF) HOOK_ENV=() DIRTY_OK=1 MODE=points \
	ACCEPT="old:1:v1:80 mid:2:v2:80 new:3:v3:0"
}

# Online (readers below expected): no snapshot; the next start, which
# migrates, runs an interrupted step again (the hooks are idempotent).
scenario_online() {
	TEMPLATE=v1 KEYS="expected = 3
readers = 2
on_older = migrate" RUN=(migrate -c @CONF) HOOK_ENV=() DIRTY_OK=0 MODE=points ACCEPT="new:3:v3:0"
}

# Hook 0003 fails after writing: volinit restores the snapshot (82).
scenario_restore() {
	TEMPLATE=v1 KEYS="expected = 3
on_older = fail
snapshot = true" RUN=(migrate -c @CONF) HOOK_ENV=(CRASH_HOOK_FAIL=1) DIRTY_OK=0 MODE=points \
	ACCEPT="old:1:v1:80 mid:2:v2:80"
}

# An operator records the version of a volume left dirty by an interrupted
# step without snapshot (dirty2: step 2's data, version 1, dirty).
scenario_stamp() {
	TEMPLATE=dirty2 KEYS="expected = 2
on_older = fail
snapshot = false" RUN=(stamp -c @CONF data 2) HOOK_ENV=() DIRTY_OK=1 MODE=points ACCEPT="new:2:v2:0"
}

# A start that migrates, then PROGRAM: cut at random times, during the
# migration or in PROGRAM's first seconds (issue 20's loss).
scenario_start() {
	TEMPLATE=v1 KEYS="expected = 3
on_older = migrate" RUN=(-c @CONF -- sleep 5) HOOK_ENV=() DIRTY_OK=0 MODE=random ACCEPT="new:3:v3:0"
}

# Writes the config of the current scenario.
crash_write_conf() { # FILE MOUNTPOINT HOOKDIR
	printf '[volinit]\n\n[data]\npath = %s\nmigrations = %s\n%s\n' "$2" "$3" "$KEYS" >"$1"
	chmod 0600 "$1"
}
