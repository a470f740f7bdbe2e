#!/usr/bin/env bash
# Make sure what the tests need is here and running: PostgreSQL, Redis and Debian's Chromium.
# Starts stopped services; installs missing ones with apt-get (Debian/Ubuntu, as root or with sudo).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
apt_updated=0
# Another apt (unattended upgrades, a second session) may hold the dpkg lock: wait for it, up to 5 min.
APT_WAIT=(-o DPkg::Lock::Timeout=300)
apt_install() {
  echo "ensure-services: apt-get install $*"
  if [ "$apt_updated" -eq 0 ]; then $SUDO apt-get "${APT_WAIT[@]}" update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${APT_WAIT[@]}" install -y -qq "$@" >/dev/null
}

wait_for() {  # wait_for NAME COMMAND...
  local name=$1; shift
  for _ in $(seq 1 30); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "ensure-services: $name did not come up" >&2
  return 1
}

# PostgreSQL on 127.0.0.1:5432, trust auth for user postgres (as on this project's machines).
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql postgresql-client
    version=$(ls /etc/postgresql | head -n1)
    conf=/etc/postgresql/$version/main
    $SUDO sed -i 's/^\(local\|host\)\(.*\)\(peer\|scram-sha-256\|md5\)$/\1\2trust/' "$conf/pg_hba.conf"
  fi
  echo "ensure-services: starting PostgreSQL"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  wait_for PostgreSQL pg_isready -q -h 127.0.0.1 -p 5432
fi

# Redis on 127.0.0.1:6379.
if ! (command -v redis-cli >/dev/null && redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG); then
  if ! command -v redis-server >/dev/null; then
    apt_install redis-server
  fi
  echo "ensure-services: starting Redis"
  $SUDO mkdir -p /var/lib/redis /var/log/redis
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for Redis bash -c 'redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG'
fi

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi
echo "ensure-services: PostgreSQL, Redis and Chromium are ready"
