package matrix_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/keeper/matrix"
)

func sampleRun(tiny bool) matrix.Run {
	model := "tinyllama"
	if tiny {
		model = "tiny-llama"
	}
	return matrix.Run{
		Date:    time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC),
		Command: "go test . -run TestMatrix -update",
		Cells: []matrix.Cell{
			{Pool: "localhost", Backend: "cpu", Model: model, Repo: "org/" + model, Architecture: "llama", Tiny: tiny, Status: matrix.Pass, ModelBytes: 3 << 20, SpawnReadyMs: 120, FirstTokenMs: 9, PrefillMs: 30, DecodeTokS: 250, Tokens: 16, WallMs: 900, OverheadMs: 40},
			{Pool: "harness", Backend: "cpu", Model: model, Repo: "org/" + model, Architecture: "llama", Tiny: tiny, Status: matrix.Fail, Reason: "spawn: WORKER_STARTUP_FAILED | boom"},
			{Pool: "harness", Backend: "cuda", Model: model, Repo: "org/" + model, Architecture: "llama", Tiny: tiny, Status: matrix.Skip, Reason: "no GPU"},
		},
	}
}

func TestRenderSection(t *testing.T) {
	out := matrix.RenderSection(sampleRun(true), matrix.SectionTiny)
	assert.Contains(t, out, "tiny random-weight models")
	assert.Contains(t, out, "| tiny-llama | org/tiny-llama | llama | ✅ | ❌ (spawn: WORKER_STARTUP_FAILED \\| boom) | ⏭ (no GPU) |")
	assert.Contains(t, out, "| tiny-llama | localhost/cpu | 3.0 MiB | 120 | 9 | 30 | 250.0 | 16 | 900 | 40 |")
	assert.Contains(t, out, "go test . -run TestMatrix -update")
	assert.Contains(t, out, "2026-11-27 10:00 UTC")
	assert.NotContains(t, matrix.RenderSection(sampleRun(true), matrix.SectionReal), "tiny-llama", "a tiny model never stands in the real-model table")
	assert.NotContains(t, matrix.RenderSection(sampleRun(true), matrix.SectionCI), "tiny-llama")
}

func TestUpdateDocumentKeepsTheOtherSection(t *testing.T) {
	doc := []byte("# Model support\n\nintro\n\n" + matrix.BeginMatrix + "\nold\n" + matrix.EndMatrix + "\n\ntrailer\n")
	withReal, err := matrix.UpdateDocument(doc, sampleRun(false))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(withReal), "# Model support\n\nintro\n\n"+matrix.BeginMatrix))
	assert.True(t, strings.HasSuffix(string(withReal), matrix.EndMatrix+"\n\ntrailer\n"))
	assert.NotContains(t, string(withReal), "\nold\n")

	both, err := matrix.UpdateDocument(withReal, sampleRun(true))
	require.NoError(t, err)
	assert.Contains(t, string(both), "| tinyllama | org/tinyllama | llama | ✅", "the real-model table survives a tiny run")
	assert.Contains(t, string(both), "| tiny-llama | org/tiny-llama | llama | ✅")

	again, err := matrix.UpdateDocument(both, sampleRun(true))
	require.NoError(t, err)
	assert.Equal(t, string(both), string(again), "updating is idempotent")
}

func storiesRun() matrix.Run {
	return matrix.Run{
		Date:    time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		Command: "go test . -run TestMatrix",
		Cells: []matrix.Cell{
			{Pool: "localhost", Backend: "cpu", Model: "stories260k", Repo: "rbee-testing/stories260K", Architecture: "llama", CI: true,
				Status: matrix.Fail, Reason: `execute: not the published text: differs at byte 24`},
			{Pool: "harness", Backend: "cpu", Model: "stories260k", Repo: "rbee-testing/stories260K", Architecture: "llama", CI: true,
				Status: matrix.Pass, Tokens: 3, Prompt: "Once upon", Text: " a time,\nLily"},
		},
	}
}

func TestRenderCISection(t *testing.T) {
	out := matrix.Render(storiesRun(), nil)
	real, ci, tiny := strings.Index(out, "### Real models"), strings.Index(out, "### Real trained model, CI"), strings.Index(out, "### Tiny random-weight models (CI)")
	require.True(t, real >= 0 && ci > real && tiny > ci, "headings in order: real, CI, tiny:\n%s", out)
	part := out[ci:tiny]
	assert.Contains(t, part, "| stories260k | rbee-testing/stories260K | llama | ❌ (execute: not the published text: differs at byte 24) | ✅ |")
	assert.Contains(t, part, "equals llama2.c's published output exactly")
	assert.Contains(t, part, "in both formats")
	assert.Contains(t, part, "> Once upon a time,\n> Lily\n", "the story, quoted line by line")
	assert.Contains(t, out[tiny:], "No CI run recorded yet")

	// a tiny run keeps the CI section, and the reverse
	doc := []byte("# Model support\n\n" + matrix.BeginMatrix + "\n" + matrix.EndMatrix + "\n")
	withCI, err := matrix.UpdateDocument(doc, storiesRun())
	require.NoError(t, err)
	both, err := matrix.UpdateDocument(withCI, sampleRun(true))
	require.NoError(t, err)
	assert.Contains(t, string(both), "> Once upon a time,")
	assert.Contains(t, string(both), "| tiny-llama | org/tiny-llama | llama | ✅")
}

func TestUpdateDocumentWithoutMarkers(t *testing.T) {
	_, err := matrix.UpdateDocument([]byte("# nothing here\n"), sampleRun(true))
	require.ErrorContains(t, err, "BEGIN MATRIX")
}

func TestWriteJSON(t *testing.T) {
	path := t.TempDir() + "/results/matrix.json"
	require.NoError(t, sampleRun(true).WriteJSON(path))
}
