package agree_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/engine"
)

var stories = filepath.Join("..", "..", "testdata", "realmodel", "stories260K")

// f32Tie is the margin below which two float32 engines may order the top two
// tokens differently: llama.cpp with an F32 KV cache and our engine differ
// by about 1e-5 in the logits (summation order), far below it.
const f32Tie = 0.002

// TestStories260KSafetensorsVsGGUF: our engine on the hf/ folder and
// llama.cpp on the GGUF hold the same trained weights (q/k rows permuted for
// the two RoPE layouts), so they must write the same 200 tokens.
func TestStories260KSafetensorsVsGGUF(t *testing.T) {
	m, err := engine.Load(filepath.Join(stories, "hf"), engine.Options{Threads: 1})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	r := compare(t, m, filepath.Join(stories, "stories260K.gguf"), []int{1}, 200)
	r.Model, r.Type = "stories260K", "F32"
	t.Log(r)
	checkRow(t, r, f32Tie)
}

// checkRow fails on any difference where llama.cpp's top two logits are
// tie or more apart, printing each difference with its margin.
func checkRow(t *testing.T, r row, tie float32) {
	t.Helper()
	assert.GreaterOrEqual(t, r.Compared, 32)
	for _, d := range r.Diffs {
		t.Log(d)
		assert.Less(t, d.Margin, tie, "%s %s: the engines disagree at a step that is no near-tie: %s", r.Model, r.Type, d)
	}
}
