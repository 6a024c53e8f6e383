#!/bin/sh
# The floor's whole process: pg-node.sh on every host over one fresh ssh connection each,
# PARALLEL hosts at a time.
#   run-fleet.sh HOSTS_FILE PARALLEL KEY KNOWN_HOSTS [apply|check|check-diff]
# HOSTS_FILE: one host a line, "ADDRESS NAME ROOT_DIR [PORT]".
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export FLOOR_KEY="$3" FLOOR_KNOWN_HOSTS="$4" FLOOR_MODE="${5:-apply}" FLOOR_SCRIPT="$here/pg-node.sh"
xargs -P "$2" -L 1 sh -c '
  exec ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$FLOOR_KNOWN_HOSTS" \
    -o IdentitiesOnly=yes -o ControlMaster=no -o ControlPath=none -i "$FLOOR_KEY" -p "${4:-22}" "root@$1" \
    sh -s -- "$3" "$2" "$FLOOR_MODE" < "$FLOOR_SCRIPT"' sh < "$1"
