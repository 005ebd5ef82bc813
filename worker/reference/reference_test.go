package reference_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/engine"
	"github.com/rbee-go/rbee/worker/tinymodel"
)

// python is Debian's interpreter, where python3-numpy installs NumPy (a
// pyenv or venv python3 earlier on PATH may lack it).
const python = "/usr/bin/python3"

const installHint = "install NumPy for the reference forward pass: apt-get install -y python3-numpy (or run scripts/deps.sh / make deps)"

func requireNumPy(t *testing.T) {
	t.Helper()
	out, err := exec.Command(python, "-c", "import numpy; print(numpy.__version__)").CombinedOutput()
	require.NoErrorf(t, err, "%s -c 'import numpy' failed: %s\n%s", python, strings.TrimSpace(string(out)), installHint)
}

type refOutput struct {
	Positions []int       `json:"positions"`
	Logits    [][]float64 `json:"logits"`
}

// reference runs forward.py and returns the logits of the given positions.
func reference(t *testing.T, dir string, tokens, positions []int) map[int][]float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "forward.py", "--model", dir, "--tokens", join(tokens), "--positions", join(positions))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoErrorf(t, cmd.Run(), "forward.py: %s", stderr.String())
	var out refOutput
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &out))
	require.Equal(t, positions, out.Positions)
	res := map[int][]float64{}
	for i, p := range out.Positions {
		res[p] = out.Logits[i]
	}
	return res
}

func join(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// testTokens returns BOS followed by n-1 ids drawn over the whole vocab.
func testTokens(seed uint64, n, vocab, bos int) []int {
	r := rand.New(rand.NewPCG(seed, 0))
	toks := []int{bos}
	for len(toks) < n {
		toks = append(toks, r.IntN(vocab))
	}
	return toks
}

// compare returns max |got - want| and max |want|.
func compare(t *testing.T, want []float64, got []float32) (diff, scale float64) {
	t.Helper()
	require.Len(t, got, len(want))
	for i, w := range want {
		diff = max(diff, math.Abs(float64(got[i])-w))
		scale = max(scale, math.Abs(w))
	}
	return diff, scale
}

// relTol bounds max |engine - reference| relative to the largest reference
// logit: the engine computes in float32 from the same stored weights, so
// only rounding may differ; a wrong mask, RoPE or layout moves logits by O(1).
const relTol = 1e-3

// TestEngineMatchesReference runs each tiny model through the Go engine —
// a prefill, then token-by-token decoding through the KV cache, and a fresh
// full prefill — and checks the logits against forward.py. The sequence is
// longer than tiny-mistral's sliding window, so the window is exercised.
func TestEngineMatchesReference(t *testing.T) {
	requireNumPy(t)
	const n, prefill = 48, 8
	positions := []int{prefill - 1, prefill, prefill + 1, 20, 31, 32, 40, n - 1}
	for _, repo := range tinymodel.Repos() {
		t.Run(repo.ID, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, tinymodel.Generate(dir, repo.Arch, tinymodel.DefaultSeed))
			spec, err := tinymodel.SpecFor(repo.Arch)
			require.NoError(t, err)
			if spec.SlidingWindow > 0 && spec.SlidingWindow < n && repo.Arch == tinymodel.Mistral {
				require.Greater(t, n-1, spec.SlidingWindow, "sequence must outrun the window")
			}
			tokens := testTokens(7, n, spec.VocabSize, spec.BOS)
			want := reference(t, dir, tokens, positions)

			m, err := engine.Load(dir, engine.Options{})
			require.NoError(t, err)
			t.Cleanup(func() { _ = m.Close() })

			var worst, scale float64
			check := func(pos int, got []float32, how string) {
				d, s := compare(t, want[pos], got)
				worst, scale = max(worst, d), max(scale, s)
				assert.LessOrEqualf(t, d, relTol*s, "%s position %d: max |engine - reference| = %.3g, logit scale %.3g", how, pos, d, s)
			}

			sess := m.NewSession()
			got, err := sess.Forward(tokens[:prefill])
			require.NoError(t, err)
			check(prefill-1, got, "prefill")
			for i := prefill; i < n; i++ {
				got, err = sess.Forward(tokens[i : i+1])
				require.NoError(t, err)
				if slices.Contains(positions, i) {
					check(i, got, "decode")
				}
			}
			assert.Equal(t, n, sess.Len())

			full, err := m.NewSession().Forward(tokens)
			require.NoError(t, err)
			check(n-1, full, "full prefill")

			// the check must be able to fail: neighbouring positions differ by far more than the tolerance
			d, s := compare(t, want[n-1], toF32(want[40]))
			assert.Greater(t, d, 100*relTol*s, "reference logits barely change between positions; the comparison would be blind")
			t.Logf("%s (%s): max |engine - reference| = %.3g over logit scale %.3g (relative %.2g)", repo.ID, spec.DType, worst, scale, worst/scale)
		})
	}
}

func toF32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func TestReferenceRejectsBadInput(t *testing.T) {
	requireNumPy(t)
	dir := t.TempDir()
	require.NoError(t, tinymodel.Generate(dir, tinymodel.Llama, 1))
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"empty tokens", []string{"--model", dir, "--tokens", ""}, "--tokens is empty"},
		{"not integers", []string{"--model", dir, "--tokens", "1,x"}, "--tokens and --positions must be comma-separated integers"},
		{"position out of range", []string{"--model", dir, "--tokens", "1,2", "--positions", "2"}, "--positions must lie in [0, 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command(python, append([]string{"forward.py"}, tt.args...)...).CombinedOutput()
			require.Error(t, err)
			assert.Contains(t, string(out), "error: "+tt.msg)
		})
	}
}
