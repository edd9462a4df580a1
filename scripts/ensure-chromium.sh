#!/bin/sh
# npm pretest: the dashboard browser test (test/e2e/dashboard.test.ts) drives Debian's Chromium at
# /usr/bin/chromium (playwright-core cannot download a browser here). Install it with apt-get when
# it is missing and we can; otherwise say so. The test itself fails with a clear message if the
# browser is still absent, so a missing browser never passes silently.
set -u
CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "pretest: $CHROMIUM is missing; installing Debian's chromium with apt-get" >&2
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
    [ -x "$CHROMIUM" ] && exit 0
  fi
  echo "pretest: could not install chromium; the dashboard browser test will fail" >&2
else
  echo "pretest: $CHROMIUM is missing and cannot be installed here (needs root and apt-get): run 'apt-get install -y chromium'; the dashboard browser test will fail" >&2
fi
exit 0
