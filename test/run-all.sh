#!/usr/bin/env bash
# The whole test suite: unit and ssh tests, then the lab tests on a lab this script brings up
# and always brings down (even when tests fail or the run is interrupted). Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

npx tsc -p tsconfig.json

cleanup() {
  node bin/plinth.js lab down || true
}
trap cleanup EXIT INT TERM

node bin/plinth.js lab down
node bin/plinth.js lab up
PLINTH_LAB=1 npx vitest run "$@"
