#!/usr/bin/env bash
# Per-user origins need names with subdomains (ada.hub.localhost, cohortlab--service.hub.localhost):
# make them resolve to loopback for every process on this machine, then check that they do.
# Chromium resolves *.localhost by itself; other processes (the service, the tests) need
# Debian's libnss-myhostname listed on the hosts: line of /etc/nsswitch.conf.
# Usage: hub_config/check_names.sh [public host, default hub.localhost]
set -euo pipefail
HOST=${1:-hub.localhost}
# A real DNS name (COHORTLAB_PUBLIC_URL) is the operator's to set up; only *.localhost is ours.
[[ $HOST == *.localhost ]] || exit 0
resolves() { getent ahostsv4 "$1" 2>/dev/null | awk '{print $1}' | grep -qx '127\.0\.0\.1'; }
if ! resolves "probe.$HOST"; then
  if [ "$(id -u)" = 0 ]; then
    if [ ! -e /lib/x86_64-linux-gnu/libnss_myhostname.so.2 ] && ! ldconfig -p | grep -q libnss_myhostname; then
      DEBIAN_FRONTEND=noninteractive apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libnss-myhostname >/dev/null
    fi
    if ! grep -Eq '^hosts:.*\bmyhostname\b' /etc/nsswitch.conf; then
      sed -i -E 's/^(hosts:[[:space:]]+files)/\1 myhostname/' /etc/nsswitch.conf
    fi
  fi
fi
for name in "$HOST" "probe.$HOST" "cohortlab--service.$HOST"; do
  if ! resolves "$name"; then
    echo "CohortLab: $name does not resolve to 127.0.0.1, so per-user origins cannot work here: install libnss-myhostname and put 'myhostname' after 'files' on the hosts: line of /etc/nsswitch.conf (as root: make demo does it), or use a DNS name with a wildcard record." >&2
    exit 1
  fi
done
