#!/usr/bin/env bash
# The global rate-limit tests start their own redis-server on loopback. On a Debian machine where we are root,
# install it when missing; elsewhere say how.
set -euo pipefail
command -v redis-server >/dev/null && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "pretest: installing redis-server (Debian package) for the global rate-limit tests" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  exit 0
fi
echo "pretest: redis-server is needed by the tests (global rate limits). Install it, e.g. 'sudo apt-get install redis-server' or 'brew install redis'." >&2
exit 1
