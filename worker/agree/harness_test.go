package agree_test

import (
	"context"
	"fmt"
	"math"
	"testing"

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

func (r row) String() string {
	first := "none"
	if len(r.Diffs) > 0 {
		first = r.Diffs[0].String()
	}
	return fmt.Sprintf("%-14s %-5s compared %3d, differences %d, first: %s; max |Δ margin| %.2g",
		r.Model, r.Type, r.Compared, len(r.Diffs), first, r.MaxMargin)
}

// compare runs llama.cpp greedily for n tokens after prompt, then walks our
// engine along llama.cpp's tokens (teacher forcing): at each step our argmax
// must be llama.cpp's token. A step where they differ is recorded with
// llama.cpp's top-2 margin; walking on along llama.cpp's path keeps every
// later step comparable, so one near-tie does not end the comparison.
func compare(t *testing.T, m *engine.Model, gguf string, prompt []int, n int) row {
	t.Helper()
	ctx := context.Background()
	judge, err := llamacpp.Greedy(ctx, gguf, prompt, n)
	require.NoError(t, err)
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
