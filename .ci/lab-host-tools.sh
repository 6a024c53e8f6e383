#!/bin/sh
# Install the Debian packages `plinth lab` needs on the machine that runs the lab.
#
#   mmdebstrap          builds the Debian bookworm base image of the lab hosts
#   systemd-container   systemd-nspawn, which boots each host with systemd as PID 1
#   iproute2            ip: network namespaces, veth pairs, the lab bridge
#   openssh-client      ssh and ssh-keygen: the lab key, host keys, `plinth lab ssh`
#   apt-cacher-ng       the package proxy the hosts reach on 198.18.0.1
#   iptables            only used when the FORWARD chain does not accept bridge traffic
#   util-linux          mount, nsenter, setsid
#
# Idempotent: installs only what is missing. It never starts a system service:
# apt-cacher-ng is started by `plinth lab up` itself, with the lab's own config,
# so while installing we tell invoke-rc.d (through policy-rc.d) to start nothing.
set -eu

packages="mmdebstrap systemd-container iproute2 openssh-client apt-cacher-ng iptables util-linux"

if [ "$(id -u)" != 0 ]; then
  echo "lab-host-tools: run as root" >&2
  exit 1
fi

missing=""
for p in $packages; do
  if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "lab-host-tools: all present ($packages)"
  exit 0
fi

echo "lab-host-tools: installing$missing"

policy=/usr/sbin/policy-rc.d
made_policy=no
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# written by plinth .ci/lab-host-tools.sh while installing; removed after\nexit 101\n' > "$policy"
  chmod 0755 "$policy"
  made_policy=yes
fi
remove_policy() { if [ "$made_policy" = yes ]; then rm -f "$policy"; fi; }
trap remove_policy EXIT

export DEBIAN_FRONTEND=noninteractive
# Other apt runs on this machine finish first instead of failing us.
lock="-o DPkg::Lock::Timeout=900"
# shellcheck disable=SC2086
apt-get $lock update -q
# shellcheck disable=SC2086
apt-get $lock install -y -q --no-install-recommends $missing

# The package enables its service for the next boot; the lab runs its own instance.
# Only undo that when this script is what installed it.
case " $missing " in *" apt-cacher-ng "*) new_acng=yes ;; *) new_acng=no ;; esac
if [ "$new_acng" = yes ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now apt-cacher-ng >/dev/null 2>&1 || true
fi
echo "lab-host-tools: done"
