#!/bin/sh
# Installs the Debian packages peoplesync needs to build and test, when run as root;
# otherwise prints the exact apt-get line and fails. Quiet when everything is present.
set -eu

# systemd (systemd-analyze verify), groff-base and man-db: tests/e2e/test_units.py checks the
# units and the man page.
PKGS="gcc make pkg-config liblmdb-dev lmdb-utils libcurl4-openssl-dev libjsmn-dev
libconfig-dev libssl-dev libcmocka-dev libmicrohttpd-dev python3 systemd groff-base man-db"
[ -n "${PEOPLESYNC_EXTRA_PKGS:-}" ] && PKGS="$PKGS $PEOPLESYNC_EXTRA_PKGS"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

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
