#!/bin/sh
# Step 1 -> 2: sessions.txt ("ID USER" lines) becomes sessions/ID files.
# volinit runs this with cwd = the volume and VOLINIT_* in the environment.
# HOOK_DELAY (seconds) widens the window for the concurrent-start test.
set -eu
echo "hook: $VOLINIT_VOLUME ($VOLINIT_PATH) $VOLINIT_FROM -> $VOLINIT_TO in $(pwd)" >&2
sleep "${HOOK_DELAY:-0}"
mkdir -p sessions
while read -r id user; do
	printf 'user=%s\n' "$user" >"sessions/$id"
done <sessions.txt
rm sessions.txt
echo "$VOLINIT_FROM->$VOLINIT_TO by $(hostname)" >>migrations.log
