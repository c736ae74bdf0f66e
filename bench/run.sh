#!/usr/bin/env bash
# The Porthole benchmark suite (issue 7). Usage: bench/run.sh [--smoke] [options]; see bench/README.md.
# Builds Release, then runs direct TCP, ssh -L (default cipher, aes128-gcm), three socat relays and Porthole over ws:// and wss://
# side by side on 127.0.0.1, prints the table and writes JSON, Markdown and SVG into bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v iperf3 >/dev/null || missing+=(iperf3)
command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh >/dev/null || missing+=(openssh-client)
command -v socat >/dev/null || missing+=(socat)
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
fi

dotnet build Porthole.slnx -c Release -nologo -v quiet -clp:NoSummary >&2
exec dotnet bench/Porthole.Bench/bin/Release/net10.0/porthole-bench.dll "$@"
