#!/usr/bin/env bash
# Installs what a fresh machine lacks for the build and the tests: Go modules,
# gotestsum (a go.mod tool), OpenSSH server (test pools), NumPy (the
# independent reference forward pass), curl (download benchmark reference),
# iproute2 (a namespaced test pool), gcc (cgo kernels of the worker) and
# llama.cpp's prebuilt CPU library through npm node-llama-cpp (the independent
# judge of internal/llamacpp; see scripts/llamacpp.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
{ command -v ssh && command -v ssh-keygen; } >/dev/null 2>&1 || missing+=(openssh-client)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev) # cgo: the worker's SIMD kernels
command -v git >/dev/null 2>&1 || missing+=(git)
command -v ip >/dev/null 2>&1 || missing+=(iproute2) # network-namespace test pool (cp1_remote)
command -v node >/dev/null 2>&1 || missing+=(nodejs npm) # llama.cpp judge (nodesource's nodejs carries npm)
/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1 || missing+=(python3-numpy)
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
go mod download
go tool -n gotestsum >/dev/null
./scripts/llamacpp.sh
