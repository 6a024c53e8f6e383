#!/usr/bin/env bash
# The whole test suite: unit and ssh tests, then the lab tests on a lab of their own ("test",
# on its own subnet) that this script brings up and always brings down (even when tests fail or
# the run is interrupted). A lab the user brought up (`plinth lab up`, scripts/converge-lab.sh) is
# left as it is. Run as root; installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-debian-packages.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
npx tsc -p tsconfig.json
# Sources, tests and examples type-checked together (vitest runs the tests without checking types).
npm run typecheck
# The k8s tests run against a real kube-apiserver: the binaries of ../shared/k8s, unpacked once.
KUBEBUILDER_ASSETS=${KUBEBUILDER_ASSETS:-$(bash scripts/k8s-test-assets.sh)}
export KUBEBUILDER_ASSETS

export PLINTH_LAB_NAME=test
cleanup() {
  node bin/plinth.js lab down || true
}
trap cleanup EXIT INT TERM

node bin/plinth.js lab down
node bin/plinth.js lab up
PLINTH_LAB=1 npx vitest run "$@"
