package agree_test

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/engine"
	"github.com/rbee-go/rbee/worker/gguf"
	"github.com/rbee-go/rbee/worker/quant"
	"github.com/rbee-go/rbee/worker/tinymodel"
)

// TestTinyModels: the four tiny architectures as rbee-tinymodel writes their
// GGUF files (the matrix's), each file through llama.cpp and through our
// engine, greedy for 40 tokens after an 8-token prompt.
func TestTinyModels(t *testing.T) {
	var (
		mu   sync.Mutex
		rows []row
	)
	t.Run("files", func(t *testing.T) {
		for _, arch := range []tinymodel.Arch{tinymodel.Llama, tinymodel.Qwen2, tinymodel.Phi3, tinymodel.Mistral} {
			spec, err := tinymodel.SpecFor(arch)
			require.NoError(t, err)
			types := []quant.Type{quant.F32, quant.Q8_0, quant.Q4_K}
			paths, err := tinymodel.GenerateGGUF(t.TempDir(), arch, tinymodel.DefaultSeed, types)
			require.NoError(t, err)
			prompt := []int{spec.BOS, 306, 4966, 304, 1708, 29871, 100, 200}
			for i, path := range paths {
				typ := types[i]
				t.Run(string(arch)+"/"+typ.String(), func(t *testing.T) {
					t.Parallel() // llama.cpp runs on one core, our engine on one thread
					m, err := engine.LoadGGUF(path, engine.Options{Threads: 1})
					require.NoError(t, err)
					t.Cleanup(func() { _ = m.Close() })
					r := walk(t, m, prompt, judge(t, path, prompt, 40))
					r.Model, r.Type = "tiny-"+string(arch), typ.String()+" ("+tensorTypes(t, path)+")"
					mu.Lock()
					rows = append(rows, r)
					mu.Unlock()
					// Every type is held to the float tie: both engines multiply
					// the quantized weights with activations rounded to 8 bits
					// the same way (quantize_row_q8_0 and _q8_K as llama.cpp runs
					// them on x86, RMSNorm rounded as ggml's), so only the order
					// of float sums differs.
					checkRow(t, r, f32Tie)
				})
			}
		}
	})
	sort.Slice(rows, func(i, j int) bool { return rows[i].Model+rows[i].Type < rows[j].Model+rows[j].Type })
	t.Log("agreement with llama.cpp:\n" + table(rows))
}

// tensorTypes summarises a file's tensor types ("Q4_K 8, Q5_0 6, F32 9"):
// rows too short for a type's blocks fall back to another, as llama.cpp's
// quantize does, so a "Q4_K" tiny file holds several.
func tensorTypes(t *testing.T, path string) string {
	t.Helper()
	f, err := gguf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	count := map[string]int{}
	for _, tn := range f.Tensors {
		count[tn.Type.String()]++
	}
	var parts []string
	for name, n := range count {
		parts = append(parts, fmt.Sprintf("%s %d", name, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
