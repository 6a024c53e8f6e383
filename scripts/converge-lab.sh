#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install what plinth needs, start the built-in
# lab (pg-primary, pg-replica-1, pg-replica-2, pgpool) and converge it with playbooks/site.yml
# into a replicated PostgreSQL cluster behind pgpool-II, then print the replication status.
# Run as root from the repository. Safe to run again: a second run reports 0 changed.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-debian-packages.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
npx tsc -p tsconfig.json

# The lab's secrets: random on first use, kept encrypted with plinth's vault in .plinth/.
mkdir -p .plinth
chmod 700 .plinth
if [ ! -f .plinth/vault-password ]; then
  (umask 077; head -c 24 /dev/urandom | base64 > .plinth/vault-password)
fi
if [ ! -f .plinth/lab-secrets.yml ]; then
  secret() { head -c 18 /dev/urandom | base64 | tr -d '/+='; }
  (umask 077; cat > .plinth/lab-secrets.yml <<YAML
replicator_password: "$(secret)"
pgpool_key: "$(secret)"
app_password: "$(secret)"
YAML
  )
  node bin/plinth.js vault --vault-password-file .plinth/vault-password encrypt .plinth/lab-secrets.yml
fi

node bin/plinth.js lab up --write-inventory .plinth/lab-inventory.yml
node bin/plinth.js run -i .plinth/lab-inventory.yml playbooks/site.yml \
  -e @.plinth/lab-secrets.yml --vault-password-file .plinth/vault-password "$@"
