package agree_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/internal/llamacpp"
	"github.com/rbee-go/rbee/worker/engine"
	"github.com/rbee-go/rbee/worker/sample"
)

// row is one line of the agreement table.
type row struct {
	Model, Type string
	Compared    int                   // greedy steps compared
	Diffs       []llamacpp.Difference // steps where the engines chose differently
	MaxMargin   float64               // largest |ours - llama.cpp| gap between llama.cpp's top two tokens' logits
}

// table prints rows as the agreement table of the closing note.
func table(rows []row) string {
	out := "| model | type | tokens compared | differences | first difference (llama.cpp's top-2 margin there) | max |Δ margin| |\n|---|---|---|---|---|---|\n"
	for _, r := range rows {
		first := "none"
		if len(r.Diffs) > 0 {
			first = r.Diffs[0].String()
		}
		out += fmt.Sprintf("| %s | %s | %d | %d | %s | %.2g |\n", r.Model, r.Type, r.Compared, len(r.Diffs), first, r.MaxMargin)
	}
	return out
}

func (r row) String() string {
	first := "none"
	if len(r.Diffs) > 0 {
		first = r.Diffs[0].String()
	}
	return fmt.Sprintf("%-14s %-5s compared %3d, differences %d, first: %s; max |Δ margin| %.2g",
		r.Model, r.Type, r.Compared, len(r.Diffs), first, r.MaxMargin)
}

// judge runs llama.cpp greedily for n tokens after prompt.
func judge(t *testing.T, gguf string, prompt []int, n int) []llamacpp.Step {
	t.Helper()
	steps, err := llamacpp.Greedy(context.Background(), gguf, prompt, n)
	require.NoError(t, err)
	return steps
}

// walk runs our engine along llama.cpp's tokens (teacher forcing): at each
// step our argmax must be llama.cpp's token. A step where they differ is
// recorded with llama.cpp's top-2 margin; walking on along llama.cpp's path
// keeps every later step comparable, so one near-tie does not end the
// comparison. Up to the first difference this is plain greedy decoding.
func walk(t *testing.T, m *engine.Model, prompt []int, judge []llamacpp.Step) row {
	t.Helper()
	ctx := context.Background()
	s := m.NewSession()
	logits, err := s.ForwardContext(ctx, prompt)
	require.NoError(t, err)
	var r row
	for i, st := range judge {
		if ours := sample.Argmax(logits); ours != st.Token {
			r.Diffs = append(r.Diffs, llamacpp.Difference{Index: i, Ours: ours, Judge: st.Token, Margin: st.Margin(), JudgeText: st.Text})
		}
		if st.Top2Token >= 0 && !math.IsInf(float64(st.Top2), -1) {
			ours := float64(logits[st.Token] - logits[st.Top2Token])
			r.MaxMargin = math.Max(r.MaxMargin, math.Abs(ours-float64(st.Margin())))
		}
		r.Compared++
		if i+1 < len(judge) {
			logits, err = s.ForwardContext(ctx, []int{st.Token})
			require.NoError(t, err)
		}
	}
	return r
}

// checkRow fails on any difference where llama.cpp's top two logits are
// tie or more apart, printing each difference with its margin, and when the
// engines' gaps between those two logits differ by tie or more at any step
// (a numeric check that holds even where the tokens agree).
func checkRow(t *testing.T, r row, tie float32) {
	t.Helper()
	t.Log(r)
	assert.GreaterOrEqual(t, r.Compared, 32)
	assert.Less(t, r.MaxMargin, float64(tie), "%s %s: the engines' top-2 gaps differ by more than %g", r.Model, r.Type, tie)
	for _, d := range r.Diffs {
		t.Log("  ", d)
		assert.Less(t, d.Margin, tie, "%s %s: the engines disagree at a step that is no near-tie (margin < %g): %s", r.Model, r.Type, tie, d)
	}
}
