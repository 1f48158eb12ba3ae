#!/usr/bin/env bash
# Make sure the Debian packages tweetheat needs are present: installs them as root with apt-get,
# otherwise stops with the one command to run. Usage: ensure-system-deps.sh PACKAGE:BINARY ...
set -euo pipefail
missing=()
for spec in "$@"; do
  pkg=${spec%%:*}
  probe=${spec#*:}
  if [[ "$probe" == /* ]]; then [[ -e "$probe" ]] || missing+=("$pkg")
  else command -v "$probe" >/dev/null 2>&1 || missing+=("$pkg"); fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "missing: ${missing[*]} -- run: sudo apt-get install ${missing[*]}" >&2
exit 1
