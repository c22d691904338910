#!/bin/sh
# Installs the Debian packages peoplesync needs to build and test, when run as root;
# otherwise prints the exact apt-get line and fails. Quiet when everything is present.
set -eu

# systemd (systemd-analyze verify), groff-base and man-db: tests/e2e/test_packaging.py checks the
# units and the man page. chromium: the browser tests (tests/browser, driven by node).
PKGS="gcc make pkg-config liblmdb-dev lmdb-utils libcurl4-openssl-dev libjsmn-dev
libconfig-dev libssl-dev libcmocka-dev libmicrohttpd-dev python3 systemd groff-base man-db
chromium"
# node and npm from Debian's nodejs and npm packages, unless a node is already there (one
# from elsewhere, such as NodeSource's, brings its own npm and conflicts with Debian's).
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
[ -n "${PEOPLESYNC_EXTRA_PKGS:-}" ] && PKGS="$PKGS $PEOPLESYNC_EXTRA_PKGS"

# playwright-core and axe-core for the browser tests, at the versions package-lock.json pins.
browser_modules() {
	dir="$(dirname "$0")/../tests/browser"
	[ -d "$dir/node_modules/playwright-core" ] && [ -d "$dir/node_modules/axe-core" ] &&
	    return 0
	command -v npm >/dev/null 2>&1 || return 0
	echo "peoplesync: npm ci --prefix tests/browser" >&2
	npm ci --prefix "$dir" --no-audit --no-fund >&2 ||
	    echo "peoplesync: npm ci failed: the browser tests will be skipped" >&2
}

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	browser_modules
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "peoplesync: missing Debian packages:$missing" >&2
	echo "install them with:" >&2
	echo "  sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "peoplesync: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
browser_modules
