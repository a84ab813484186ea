#!/bin/sh
# Step 3 -> 4, the CONTRACT half, run OFFLINE (notes:4 declares no readers):
# volinit waits until no app runs on the volume and takes a snapshot first.
# It drops sessions/, which only notes:2 and notes:3 read; sessions that a
# notes:2 replica wrote during the rollout (in sessions/ only) are indexed
# first, so none is lost.
# volinit runs this with cwd = the volume and VOLINIT_* in the environment.
set -eu
echo "hook: $VOLINIT_VOLUME ($VOLINIT_PATH) $VOLINIT_FROM -> $VOLINIT_TO in $(pwd)" >&2
mkdir -p users
for f in sessions/*; do
	[ -f "$f" ] || continue
	id=${f#sessions/}
	user=$(sed -n 's/^user=//p' "$f")
	[ -n "$user" ] || continue
	grep -qx -- "$id" "users/$user" 2>/dev/null || echo "$id" >>"users/$user"
done
rm -rf sessions
echo "$VOLINIT_FROM->$VOLINIT_TO by $(hostname)" >>migrations.log
