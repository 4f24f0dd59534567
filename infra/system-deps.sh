#!/usr/bin/env bash
# Installs the system programs the real stack and the tests need, only those missing, then fetches the
# Kafka broker jars once (Maven Central → ~/.cache/sentimon/kafka/<version>/libs). Debian 12, as root
# (or with sudo). Safe to run again: with everything present it changes nothing and takes a second.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
have() { command -v "$1" >/dev/null 2>&1; }
java_ok() { have java && java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])'; }
pg_ok() { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || have initdb; }

java_ok || missing+=(openjdk-17-jre-headless)
have mvn || missing+=(maven)
pg_ok || missing+=(postgresql)
have redis-server || missing+=(redis-server)
have chromium || missing+=(chromium)
have make || missing+=(make)

if [ "${#missing[@]}" -gt 0 ]; then
  echo "system-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The Debian postgresql package starts a cluster on 5432; the stack runs its own, so leave that one be.
python3 -c 'from infra.kafka.jars import ensure_jars; ensure_jars()'
