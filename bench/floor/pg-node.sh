#!/bin/sh
# The batched-shell floor: the work of ../ansible/pg-node.yml as one POSIX sh script, run on
# the host in one go (`ssh HOST sh -s -- ROOT_DIR HOSTNAME [apply|check|check-diff] < pg-node.sh`).
# Same files byte for byte; prints "HOSTNAME changed=N" (N counts tasks + handler, as Ansible does).
# Naive on purpose: no caching, no cleverness beyond doing each file's edits in a temp copy.
set -eu
root=$1 host=$2 mode=${3:-apply}
version=15 cluster=main
conf="$root/etc/postgresql/$version/$cluster"
data="$root/var/lib/postgresql/$version/$cluster"
changed=0 notify=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

applying() { [ "$mode" = apply ]; }
bump() { changed=$((changed + 1)); }

# directory PATH MODE
directory() {
  if [ -d "$1" ] && [ "$(stat -c %a "$1")" = "${2#0}" ]; then return 0; fi
  if applying; then mkdir -p "$1" && chmod "$2" "$1"; fi
  bump
}

# put DEST MODE NEWFILE: replace DEST atomically when content or mode differ; 1 when unchanged.
put() {
  if [ -f "$1" ] && cmp -s "$3" "$1"; then
    [ "$(stat -c %a "$1")" = "${2#0}" ] && return 1
    if applying; then chmod "$2" "$1"; fi
    return 0
  fi
  if [ "$mode" = check-diff ]; then
    old=/dev/null; [ -f "$1" ] && old=$1
    diff -u "$old" "$3" --label "before: $1" --label "after: $1" || true
  fi
  if applying; then
    t="$1.floor-$$"
    cp "$3" "$t" && chmod "$2" "$t" && mv -f "$t" "$1"
  fi
  return 0
}

# current DEST COPY: the file as it is (or empty), to edit in COPY
current() { if [ -f "$1" ]; then cat "$1" > "$2"; else : > "$2"; fi; }

# lineinfile COPY REGEX LINE: the last matching line replaced, else LINE appended; 1 when unchanged.
lineinfile() {
  awk -v re="$2" -v line="$3" '
    { a[NR] = $0; if ($0 ~ re) last = NR }
    END { for (i = 1; i <= NR; i++) print (i == last ? line : a[i]); if (!last) print line }' "$1" > "$1.new"
  if cmp -s "$1" "$1.new"; then rm -f "$1.new"; return 1; fi
  mv -f "$1.new" "$1"
}

# blockinfile COPY BLOCKFILE BEGIN END: the lines between the markers replaced, else appended.
blockinfile() {
  awk -v blk="$2" -v b="$3" -v e="$4" '
    function emit(  l) { while ((getline l < blk) > 0) print l; close(blk); done = 1 }
    $0 == b { inside = 1; emit(); next }
    inside && $0 == e { inside = 0; next }
    inside { next }
    { print }
    END { if (!done) emit() }' "$1" > "$1.new"
  if cmp -s "$1" "$1.new"; then rm -f "$1.new"; return 1; fi
  mv -f "$1.new" "$1"
}

directory "$conf/conf.d" 0755
directory "$data" 0700

printf '%s\n' "$version" > "$work/PG_VERSION"
if put "$data/PG_VERSION" 0600 "$work/PG_VERSION"; then bump; fi

cat > "$work/postgresql.conf" <<CONF
# Managed by the fleet benchmark - do not edit by hand
# PostgreSQL $version configuration for cluster "$cluster" on $host
#------------------------------------------------------------------------------
# FILE LOCATIONS
#------------------------------------------------------------------------------
data_directory = '$data'
hba_file = '$conf/pg_hba.conf'
ident_file = '$conf/pg_ident.conf'
external_pid_file = '$root/run/postgresql/$version-$cluster.pid'
#------------------------------------------------------------------------------
# CONNECTIONS AND AUTHENTICATION
#------------------------------------------------------------------------------
port = 5432
unix_socket_directories = '$root/run/postgresql'
ssl = off
password_encryption = scram-sha-256
#------------------------------------------------------------------------------
# RESOURCE USAGE
#------------------------------------------------------------------------------
work_mem = 8MB
maintenance_work_mem = 128MB
dynamic_shared_memory_type = posix
max_worker_processes = 8
max_parallel_workers = 8
#------------------------------------------------------------------------------
# WRITE-AHEAD LOG AND REPLICATION
#------------------------------------------------------------------------------
wal_level = replica
max_wal_size = 1GB
min_wal_size = 80MB
max_wal_senders = 10
CONF
for slot in replica_a replica_b; do
  printf '# replication slot reserved for %s\n' "$slot" >> "$work/postgresql.conf"
done
cat >> "$work/postgresql.conf" <<CONF
#------------------------------------------------------------------------------
# LOGGING AND LOCALE
#------------------------------------------------------------------------------
log_line_prefix = '%m [%p] %q%u@%d '
log_timezone = 'Etc/UTC'
cluster_name = '$version/$cluster'
datestyle = 'iso, mdy'
timezone = 'Etc/UTC'
lc_messages = 'C.UTF-8'
default_text_search_config = 'pg_catalog.english'
include_dir = 'conf.d'
CONF
if put "$conf/postgresql.conf" 0644 "$work/postgresql.conf"; then bump; notify=1; fi

tuning="$conf/conf.d/10-tuning.conf"
current "$tuning" "$work/tuning"
edits=0
if lineinfile "$work/tuning" '^#?[[:space:]]*listen_addresses[[:space:]]*=' "listen_addresses = '*'"; then edits=$((edits + 1)); fi
if lineinfile "$work/tuning" '^#?[[:space:]]*max_connections[[:space:]]*=' 'max_connections = 200'; then edits=$((edits + 1)); fi
if lineinfile "$work/tuning" '^#?[[:space:]]*shared_buffers[[:space:]]*=' 'shared_buffers = 512MB'; then edits=$((edits + 1)); fi
if put "$tuning" 0644 "$work/tuning"; then
  # A mode-only fix is one change; otherwise each edited line was one task's change.
  [ "$edits" -gt 0 ] || edits=1
  changed=$((changed + edits)); notify=1
fi

hba="$conf/pg_hba.conf"
current "$hba" "$work/hba"
{
  echo '# BEGIN MANAGED CLIENT ACCESS'
  echo 'local   all             postgres                                peer'
  echo 'local   all             all                                     peer'
  echo 'host    all             all             127.0.0.1/32            scram-sha-256'
  for net in 10.0.0.0/8 192.168.10.0/24; do
    printf 'host    all             all             %-24sscram-sha-256\n' "$net"
  done
  echo 'host    replication     replicator      10.0.0.0/8              scram-sha-256'
  echo '# END MANAGED CLIENT ACCESS'
} > "$work/block"
blockinfile "$work/hba" "$work/block" '# BEGIN MANAGED CLIENT ACCESS' '# END MANAGED CLIENT ACCESS' || true
if put "$hba" 0640 "$work/hba"; then bump; notify=1; fi

installed=
if [ -f "$data/PG_VERSION" ]; then installed=$(cat "$data/PG_VERSION"); fi

if [ ! -e "$data/base" ]; then
  if applying; then mkdir -p "$data/base" "$data/global" "$data/pg_wal"; fi
  bump
fi

if applying && [ "$installed" != "$version" ]; then
  echo "$host: assertion failed: PG_VERSION is '$installed', expected '$version'" >&2
  exit 1
fi

if [ "$notify" = 1 ]; then
  if applying; then touch "$data/postmaster.restarted"; fi
  bump
fi
echo "$host changed=$changed"
