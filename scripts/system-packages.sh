#!/usr/bin/env bash
# Debian packages the test suite needs: a MariaDB server and a Redis server (the tests start
# their own throwaway instances of both; Redis is the Celery workers' broker), Chromium for the
# browser tests, poppler-utils to read PDFs back, fonts for names in every script, and the Pango/HarfBuzz
# libraries WeasyPrint renders PDFs with.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }
missing=()
have mariadbd || missing+=(mariadb-server)
have redis-server || missing+=(redis-server)
have chromium || missing+=(chromium)
have pdftotext || missing+=(poppler-utils)
[ -d /usr/share/fonts/truetype/dejavu ] || missing+=(fonts-dejavu-core)
# Names in every script on the PDFs: DejaVu has Latin, Greek, Cyrillic, Arabic and Hebrew;
# Droid Sans Fallback brings Chinese, Japanese and Korean, Noto the Indic and other scripts
# (without them such names printed as empty boxes).
[ -d /usr/share/fonts/truetype/droid ] || missing+=(fonts-droid-fallback)
[ -d /usr/share/fonts/truetype/noto ] || missing+=(fonts-noto-core)
# WeasyPrint (PDF reports) loads Pango and HarfBuzz at run time.
lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
lib libpango-1.0.so.0 || missing+=(libpango-1.0-0)
lib libpangoft2-1.0.so.0 || missing+=(libpangoft2-1.0-0)
lib libharfbuzz-subset.so.0 || missing+=(libharfbuzz-subset0)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing system packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "==> Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
