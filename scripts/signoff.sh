#!/usr/bin/env bash
# make signoff CP=N [POOLS=...] [MODELS=...]: runs checkpoint N's scenarios
# (tagged @cpN), for CP3/CP4 also the matrix on POOLS, then judges every
# success criterion of the plan (rbee-keeper signoff report) into
# results/signoff-cpN.md and .json. Exit 0 only when all passed.
set -uo pipefail
cd "$(dirname "$0")/.."
cp="${1-}" pools="${2-}" models="${3-}"
keeper=bin/rbee-keeper
plan=$("$keeper" signoff plan "$cp") || exit $? # a bad CP is a usage error (exit 2)
tags=$(sed -n 's/^tags //p' <<<"$plan")
needs_matrix=$(sed -n 's/^matrix //p' <<<"$plan")
cmdline="make signoff CP=$cp${pools:+ POOLS=$pools}${models:+ MODELS=$models}"
mkdir -p results
features="results/signoff-cp$cp.cucumber.json"
rm -f "$features" results/matrix.json

echo "signoff: checkpoint $cp scenarios ($tags)"
go test -count=1 -timeout 60m -run '^TestFeatures$' . -godog.tags="$tags" \
  -godog.format="pretty,cucumber:$PWD/$features,junit:$PWD/results/signoff-cp$cp.junit.xml" ||
  echo "signoff: some scenarios failed (the report names them)"

args=(signoff report "$cp" --commands --command-line "$cmdline")
[ -s "$features" ] && args+=(--features "$features")
[ -n "$pools" ] && args+=(--matrix-pools "$pools")
[ -n "$models" ] && args+=(--models "$models")
if [ "$needs_matrix" = yes ]; then
  echo "signoff: the matrix on ${pools:-localhost:cpu}${models:+ with $models}"
  go test -count=1 -timeout 600m -run '^TestMatrix$' . ${pools:+-pools="$pools"} ${models:+-models="$models"} ||
    echo "signoff: the matrix reported failures (the report names them)"
  if [ -s results/matrix.json ]; then
    args+=(--matrix results/matrix.json)
  else
    echo "signoff: the matrix did not run (see above): its criteria are NOT RUN"
  fi
fi
exec "$keeper" "${args[@]}"
