#!/bin/sh
# Installs the Debian 12 packages plinth's lab and test suite use. Run as root. Idempotent.
#
#   lab:    mmdebstrap systemd-container iproute2 openssh-client apt-cacher-ng iptables util-linux
#   tests:  openssh-server (a real sshd on 127.0.0.1), sudo (become), postgresql-15 and
#           postgresql-client-15 (real clusters in temp dirs), pgpool2 (the real pg_enc),
#           etcd-server (the store of the real kube-apiserver the k8s tests start),
#           zip and unzip (real zip archives for unarchive; unzip only to compare with),
#           ansible-core (only for ansible-inventory: the inventory test compares plinth's merged
#           inventory with Ansible's; 8 packages, 24 MB installed, about 6 s), doas (become_method doas)
#
# No service is started: policy-rc.d tells invoke-rc.d to start nothing while we install, so
# the machine keeps no system sshd, PostgreSQL or pgpool running. Tests start their own.
set -eu

packages="mmdebstrap systemd-container iproute2 openssh-client apt-cacher-ng iptables util-linux
openssh-server sudo postgresql-15 postgresql-client-15 pgpool2 etcd-server ca-certificates ansible-core doas zip unzip"

if [ "$(id -u)" != 0 ]; then
  echo "install-debian-packages: run as root (sudo $0)" >&2
  exit 1
fi

missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "install-debian-packages: all present"
  exit 0
fi

policy=/usr/sbin/policy-rc.d
made_policy=no
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  made_policy=yes
fi
# Removes only a policy-rc.d this script wrote; an `if` keeps the trap's status out of the exit code.
cleanup() {
  if [ "$made_policy" = yes ]; then rm -f "$policy"; fi
}
trap cleanup EXIT

echo "install-debian-packages: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "install-debian-packages: done"
