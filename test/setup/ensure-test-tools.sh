#!/usr/bin/env bash
# The end-to-end tests start their own redis-server (global rate limits) and prometheus (metrics scraped by a real
# Prometheus) on loopback, the dashboard test a headless chromium, and the TLS tests openssl for certificates. On a Debian machine where we are root, install what is missing; elsewhere say how.
set -euo pipefail
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v prometheus >/dev/null || missing+=(prometheus)
# test/dashboard.test.ts drives Debian's headless Chromium through playwright-core.
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v openssl >/dev/null || missing+=(openssl)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "pretest: installing ${missing[*]} (Debian packages) for the end-to-end tests" >&2
  apt-get update -qq
  # --no-install-recommends: prometheus recommends node-exporter and friends, which the tests do not need.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "pretest: the tests need ${missing[*]}. Install them, e.g. 'sudo apt-get install ${missing[*]}' or 'brew install redis prometheus'." >&2
exit 1
