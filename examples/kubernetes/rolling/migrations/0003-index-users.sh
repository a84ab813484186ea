#!/bin/sh
# Step 2 -> 3, the EXPAND half, run ONLINE (notes:3 declares readers = 2):
# while notes:2 replicas keep serving on the volume. It adds users/USER (the
# IDs of USER's sessions, one a line) and changes nothing notes:2 reads.
# - additive: sessions/ stays as it is, so notes:2 works at every moment;
# - idempotent: an online step that failed or was killed runs again from the
#   start on whatever it left (no snapshot is restored), so every write here
#   checks first and a second run adds nothing twice.
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
echo "$VOLINIT_FROM->$VOLINIT_TO by $(hostname)" >>migrations.log
