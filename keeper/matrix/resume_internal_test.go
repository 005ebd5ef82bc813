package matrix

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// -resume reuses a passed cell only while the pool, backend, model commit,
// hive version and worker version all match; anything else runs again.
func TestResumeReusesOnlyWhatStillStands(t *testing.T) {
	ctx := context.Background()
	r, err := Setup(ctx, Config{Pools: []string{"localhost:cpu"}, Models: "tiny-llama", WorkDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, r.Close()) })
	p, m := r.Pools[0], r.Models[0]
	first := r.Cell(ctx, p, "cpu", m)
	require.Equal(t, Pass, first.Status, first.Reason)
	require.NotEmpty(t, first.Commit)
	require.NotEmpty(t, first.HiveVersion)
	require.Contains(t, first.WorkerVersion, "llm-worker-rbee")
	prevDate := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)

	tests := []struct {
		name   string
		change func(c *Cell)
		reused bool
	}{
		{"nothing changed", func(*Cell) {}, true},
		{"worker version differs", func(c *Cell) { c.WorkerVersion = "llm-worker-rbee 0.0.9" }, false},
		{"hive version differs", func(c *Cell) { c.HiveVersion = "0.0.1" }, false},
		{"model commit differs", func(c *Cell) { c.Commit = "0123456789abcdef0123456789abcdef01234567" }, false},
		{"repo differs", func(c *Cell) { c.Repo = "other/repo" }, false},
		{"failed before", func(c *Cell) { c.Status, c.Reason = Fail, "spawn: boom" }, false},
		{"versions unknown", func(c *Cell) { c.WorkerVersion = "" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prev := first
			prev.Text = "marker of the previous run"
			tt.change(&prev)
			r.resume = newResumer(&Run{Date: prevDate, Cells: []Cell{prev}}, r.HubURL)
			got := r.Cell(ctx, p, "cpu", m)
			require.Equal(t, Pass, got.Status, got.Reason)
			if !tt.reused {
				assert.Nil(t, got.ReusedFrom)
				assert.NotEqual(t, prev.Text, got.Text, "the cell ran again")
				return
			}
			require.NotNil(t, got.ReusedFrom)
			assert.Equal(t, prevDate, *got.ReusedFrom)
			assert.Equal(t, prev.Text, got.Text)
			assert.Contains(t, mark(got, true), "reused from 2026-11-30 08:00")
		})
	}
}

// A cell reused twice keeps the date it was measured, not the date of the
// run that reused it; the run's JSON round-trips the mark.
func TestResumeKeepsTheMeasuredDate(t *testing.T) {
	measured := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	run := Run{Date: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), Cells: []Cell{{Pool: "a", Backend: "cpu", Model: "m", Status: Pass, ReusedFrom: &measured}}}
	path := filepath.Join(t.TempDir(), "matrix.json")
	require.NoError(t, run.WriteJSON(path))
	got, err := LoadRun(path)
	require.NoError(t, err)
	require.NotNil(t, got.Cells[0].ReusedFrom)
	assert.Equal(t, measured, got.Cells[0].ReusedFrom.UTC())
	_, err = LoadRun(filepath.Join(t.TempDir(), "none.json"))
	assert.ErrorContains(t, err, "run the matrix once without -resume first")
}
