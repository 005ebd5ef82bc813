package signoff_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/keeper/matrix"
	"github.com/rbee-go/rbee/keeper/signoff"
)

func TestCheckpointsAreTheFourOfThePlan(t *testing.T) {
	cps, err := signoff.Checkpoints()
	require.NoError(t, err)
	require.Len(t, cps, 4)
	for i, cp := range cps {
		assert.Equal(t, i+1, cp.N)
		assert.NotEmpty(t, cp.Criteria, "checkpoint %d", cp.N)
	}
	// CP3 and CP4 are judged from matrix cells, CP1 and CP2 are not
	assert.False(t, cps[0].NeedsMatrix())
	assert.False(t, cps[1].NeedsMatrix())
	assert.True(t, cps[2].NeedsMatrix())
	assert.True(t, cps[3].NeedsMatrix())
	_, err = signoff.Find(cps, 5)
	assert.True(t, signoff.IsUsage(err))
	assert.ErrorContains(t, err, "checkpoint 5 does not exist")
}

// Every tag a criterion relies on is carried by a scenario: a renamed tag
// would otherwise leave its criterion NOT RUN for ever.
func TestEveryCriterionTagIsOnAScenario(t *testing.T) {
	files, err := filepath.Glob("../../features/*.feature")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var all strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		all.Write(b)
	}
	text := all.String()
	cps, err := signoff.Checkpoints()
	require.NoError(t, err)
	for _, cp := range cps {
		for _, tag := range strings.Split(cp.TagExpression(), ",") {
			assert.Regexp(t, regexp.MustCompile(`(?m)^\s*(@\S+\s+)*`+regexp.QuoteMeta(tag)+`(\s|$)`), text, "tag %s of checkpoint %d", tag, cp.N)
		}
	}
}

func TestTagExpressionRunsTheCheckpointAndItsCriteria(t *testing.T) {
	cps, err := signoff.Checkpoints()
	require.NoError(t, err)
	expr := cps[2].TagExpression()
	assert.True(t, strings.HasPrefix(expr, "@cp3,"), expr)
	assert.Contains(t, expr, "@cp1.keeper-ssh") // a CP1 scenario is evidence for CP3 too
}

const cucumberJSON = `[
 {"uri": "features/cp1.feature", "name": "CP1", "tags": [{"name": "@cp1"}], "elements": [
  {"name": "help", "type": "scenario", "tags": [{"name": "@cp1.hive-help"}],
   "steps": [{"keyword": "When ", "name": "I run it", "result": {"status": "passed"}}]},
  {"name": "status", "type": "scenario", "tags": [{"name": "@cp1.hive-status"}],
   "steps": [{"keyword": "When ", "name": "I run status", "result": {"status": "passed"}},
             {"keyword": "Then ", "name": "it says ok", "result": {"status": "failed"}}]},
  {"name": "undefined", "type": "scenario", "tags": [{"name": "@cp1.keeper-help"}],
   "steps": [{"keyword": "Then ", "name": "nobody wrote me", "result": {"status": "undefined"}}]}
 ]}]`

func TestParseScenarios(t *testing.T) {
	ss, err := signoff.ParseScenarios([]byte(cucumberJSON))
	require.NoError(t, err)
	require.Len(t, ss, 3)
	assert.True(t, ss[0].Passed)
	assert.ElementsMatch(t, []string{"@cp1", "@cp1.hive-help"}, ss[0].Tags)
	assert.False(t, ss[1].Passed)
	assert.Equal(t, "Then it says ok (failed)", ss[1].Failed)
	assert.False(t, ss[2].Passed, "strict: an undefined step fails the scenario")
	_, err = signoff.ParseScenarios([]byte("not json"))
	assert.ErrorContains(t, err, "not cucumber JSON")
}

func crit(id string, tags []string, cmds []string, cells *signoff.CellRule) signoff.Checkpoint {
	return signoff.Checkpoint{N: 1, Criteria: []signoff.Criterion{{ID: id, Section: "s", Text: "t", Tags: tags, Commands: cmds, Cells: cells}}}
}

func TestJudgeScenariosAndCommands(t *testing.T) {
	ss, err := signoff.ParseScenarios([]byte(cucumberJSON))
	require.NoError(t, err)
	dir := t.TempDir()
	tests := []struct {
		name    string
		cp      signoff.Checkpoint
		ev      signoff.Evidence
		verdict signoff.Verdict
		reason  string
	}{
		{"tagged scenario passed", crit("cp1.a", []string{"@cp1.hive-help"}, nil, nil), signoff.Evidence{Scenarios: ss}, signoff.Pass, ""},
		{"tagged scenario failed", crit("cp1.a", []string{"@cp1.hive-status"}, nil, nil), signoff.Evidence{Scenarios: ss}, signoff.Fail, `"status"`},
		{"no scenario with the tag", crit("cp1.a", []string{"@cp1.nothing"}, nil, nil), signoff.Evidence{Scenarios: ss}, signoff.NotRun, "no scenario tagged @cp1.nothing ran"},
		{"features not run", crit("cp1.a", []string{"@cp1.hive-help"}, nil, nil), signoff.Evidence{}, signoff.NotRun, "the features did not run"},
		{"command passed", crit("cp1.a", nil, []string{"true"}, nil), signoff.Evidence{Commands: &signoff.Runner{Dir: dir}}, signoff.Pass, ""},
		{"command failed", crit("cp1.a", nil, []string{"echo broken >&2; exit 3"}, nil), signoff.Evidence{Commands: &signoff.Runner{Dir: dir}}, signoff.Fail, "exited 3: broken"},
		{"commands not run", crit("cp1.a", nil, []string{"true"}, nil), signoff.Evidence{}, signoff.NotRun, "evidence commands were not run"},
		{"a failure beats a not-run", crit("cp1.a", []string{"@cp1.nothing"}, []string{"false"}, nil), signoff.Evidence{Scenarios: ss, Commands: &signoff.Runner{Dir: dir}}, signoff.Fail, "exited 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := signoff.Judge(context.Background(), tt.cp, tt.ev)
			require.Len(t, res, 1)
			assert.Equal(t, tt.verdict, res[0].Verdict, res[0].Reason)
			assert.Contains(t, res[0].Reason, tt.reason)
		})
	}
}

func run(pools []string, cells ...matrix.Cell) *matrix.Run {
	return &matrix.Run{Pools: pools, Cells: cells}
}

func TestJudgeCells(t *testing.T) {
	qwenCPU := matrix.Cell{Pool: "localhost", Backend: "cpu", Model: "qwen-0.5b", Status: matrix.Pass, Downloaded: true, Tokens: 8}
	qwenMetal := matrix.Cell{Pool: "mac", Backend: "metal", Model: "qwen-0.5b", Status: matrix.Pass, Downloaded: true}
	qwenCudaBroken := matrix.Cell{Pool: "ws", Backend: "cuda", Model: "qwen-0.5b", Status: matrix.Fail, Downloaded: true,
		Reason: "execute: worker error GENERATION_ERROR: cannot broadcast [1, 5] to [1, 8]"}
	qwenNoDownload := matrix.Cell{Pool: "ws", Backend: "cuda", Model: "qwen-0.5b", Status: matrix.Fail, Reason: "download: access denied"}
	tiny := matrix.Cell{Pool: "localhost", Backend: "cpu", Model: "tiny-qwen2", Status: matrix.Pass, Downloaded: true, Tiny: true}
	metal := &signoff.CellRule{Models: []string{"qwen-0.5b"}, Backends: []string{"metal"}, Need: signoff.NeedPassed}
	cuda := &signoff.CellRule{Models: []string{"qwen-0.5b"}, Backends: []string{"cuda"}, Need: signoff.NeedPassed}
	anyBackend := &signoff.CellRule{Models: []string{"qwen-0.5b"}, Need: signoff.NeedPassed}
	dl := &signoff.CellRule{Models: []string{"qwen-0.5b"}, Need: signoff.NeedDownloaded}
	tests := []struct {
		name    string
		rule    *signoff.CellRule
		run     *matrix.Run
		verdict signoff.Verdict
		reason  string
	}{
		{"metal passed", metal, run([]string{"localhost:cpu", "mac:metal"}, qwenCPU, qwenMetal), signoff.Pass, ""},
		{"no pool offered metal", metal, run([]string{"localhost:cpu", "harness:cpu"}, qwenCPU), signoff.NotRun, "no pool of the run offered metal (pools: localhost:cpu, harness:cpu)"},
		{"cuda failed with the worker's words", cuda, run([]string{"ws:cuda"}, qwenCudaBroken), signoff.Fail, "ws/cuda/qwen-0.5b fail: execute: worker error GENERATION_ERROR: cannot broadcast"},
		{"no metal and no qwen: both said", metal, run([]string{"localhost:cpu"}, tiny), signoff.NotRun, "no pool of the run offered metal (pools: localhost:cpu); qwen-0.5b was not in the matrix run"},
		{"a tiny model never stands in", anyBackend, run([]string{"localhost:cpu"}, tiny), signoff.NotRun, "qwen-0.5b was not in the matrix run (models: tiny-qwen2"},
		{"any backend: every offered one", anyBackend, run([]string{"localhost:cpu", "ws:cuda"}, qwenCPU, qwenCudaBroken), signoff.Fail, "cannot broadcast"},
		{"downloaded on every pool", dl, run([]string{"localhost:cpu", "ws:cuda"}, qwenCPU, qwenCudaBroken), signoff.Pass, ""},
		{"not downloaded on one pool", dl, run([]string{"localhost:cpu", "ws:cuda"}, qwenCPU, qwenNoDownload), signoff.Fail, "qwen-0.5b was not downloaded on pool ws: download: access denied"},
		{"matrix not run", metal, nil, signoff.NotRun, "the matrix did not run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := signoff.Evidence{Matrix: tt.run}
			res := signoff.Judge(context.Background(), crit("cp1.a", nil, nil, tt.rule), ev)
			require.Len(t, res, 1)
			assert.Equal(t, tt.verdict, res[0].Verdict, res[0].Reason)
			assert.Contains(t, res[0].Reason, tt.reason)
		})
	}
}

func TestReportSignedOnlyWhenAllPassed(t *testing.T) {
	r := &signoff.Report{Checkpoint: 3, Title: "x", Commit: "abc", Dirty: true, DirtyFiles: []string{"a.go"},
		Results: []signoff.Result{{ID: "cp3.a", Verdict: signoff.Pass, Text: "A"}, {ID: "cp3.b", Verdict: signoff.NotRun, Text: "B | pipe", Reason: "no pool of the run offered metal"}}}
	r.Tally()
	assert.False(t, r.Signed())
	assert.Equal(t, "checkpoint 3: NOT SIGNED OFF: 1 passed, 0 failed, 1 not run (of 2 criteria)", r.Summary())
	md := r.Markdown()
	assert.Contains(t, md, "**dirty tree** (1 changed files: a.go)")
	assert.Contains(t, md, `| NOT RUN |  | B \| pipe |  | no pool of the run offered metal |`)
	path, err := r.Write(t.TempDir())
	require.NoError(t, err)
	assert.FileExists(t, strings.TrimSuffix(path, ".md")+".json")
	r.Results[1].Verdict = signoff.Pass
	r.Tally()
	assert.True(t, r.Signed())
	assert.False(t, (&signoff.Report{}).Signed(), "no criteria is no sign-off")
}
