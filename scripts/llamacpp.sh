#!/usr/bin/env bash
# Installs llama.cpp's prebuilt CPU library (npm node-llama-cpp and
# @node-llama-cpp/linux-x64, versions pinned by internal/llamacpp/npm's lock
# file) into .cache/llamacpp, for internal/llamacpp's agreement tests and
# benchmarks. Never builds or downloads llama.cpp itself (no install scripts,
# NODE_LLAMA_CPP_SKIP_DOWNLOAD) and leaves out the optional GPU builds
# (about 680 MB). Quick when the same lock file is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."

src=internal/llamacpp/npm
dst=.cache/llamacpp
stamp="$dst/.installed"
want="$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$dst/node_modules/node-llama-cpp/package.json" ]; then
  exit 0
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
  echo "error: node-llama-cpp 3.21.1 needs Node >= 20, this machine has $(node --version)" >&2
  echo "hint: install Node 20 (e.g. from nodesource) and run scripts/deps.sh again" >&2
  exit 1
fi
echo "deps: installing llama.cpp (node-llama-cpp, CPU build) into $dst"
mkdir -p "$dst"
cp "$src/package.json" "$src/package-lock.json" "$dst/"
rm -f "$stamp"
(cd "$dst" && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --omit=optional --ignore-scripts \
  --no-audit --no-fund --loglevel=error >/dev/null)
test -f "$dst/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/llama-addon.node" || {
  echo "error: $dst lacks the linux-x64 CPU build of llama.cpp after npm ci" >&2
  exit 1
}
echo "$want" >"$stamp"
