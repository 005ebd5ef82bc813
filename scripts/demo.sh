#!/bin/sh
# make demo — the main job on the embedded default: first the real trained
# stories260K (testdata/realmodel), which must write llama2.c's published story
# word for word (HF folder and GGUF), then the four tiny random-weight models
# generated now (HF folders and Q8_0 GGUF files), all
# served by an in-process hub mirror and run on this machine through the matrix
# (register, download, spawn llm-worker-rbee, run the same greedy request twice,
# check the stream, stop); then the tables are printed, the story's first.
# POOLS, MODELS and HUB override the defaults, e.g.
#   POOLS=localhost:cpu,harness:cpu ./scripts/demo.sh
set -u
cd "$(dirname "$0")/.."
GO="${GO:-go}"
POOLS="${POOLS:-localhost:cpu}"
MODELS="${MODELS:-tiny}"

set -- -pools="$POOLS" -models="$MODELS"
if [ -n "${HUB:-}" ]; then
	set -- "$@" -hub="$HUB"
fi
echo "==> go test . -run TestMatrix -count=1 -v $*"
rm -f results/MODEL_SUPPORT.md
"$GO" test . -run '^TestMatrix$' -count=1 -v -timeout 60m "$@"
status=$?
if [ -f results/MODEL_SUPPORT.md ]; then
	echo
	echo "==> results/MODEL_SUPPORT.md (JSON: results/matrix.json)"
	echo
	cat results/MODEL_SUPPORT.md
fi
if [ "$status" -ne 0 ]; then
	echo "error: the matrix failed (exit $status); see the cells marked ❌ above" >&2
fi
exit "$status"
