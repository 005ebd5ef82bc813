package server_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker"
	"github.com/rbee-go/rbee/worker/engine"
	"github.com/rbee-go/rbee/worker/safetensors"
	"github.com/rbee-go/rbee/worker/server"
)

// seedModels are the real layouts of testdata/seedconfigs (copied from the
// shared fixtures) with the tokenizer family each folder is served with.
var seedModels = []struct {
	folder, tokenizer string
	tokenizerVocab    int // ids the tokenizer has; config vocab_size may pad beyond
}{
	{"TinyLlama__TinyLlama-1.1B-Chat-v1.0", "spm-bpe-32k", 32000},
	{"Qwen__Qwen2.5-0.5B-Instruct", "bytelevel-bpe-152k", 151669},
	{"microsoft__Phi-3-mini-4k-instruct", "spm-bpe-32k", 32011},
	{"mistralai__Mistral-7B-Instruct-v0.2", "spm-bpe-32k", 32000},
}

type reconstructed struct {
	Files   map[string]int64 `json:"files"`
	Tensors []struct {
		Name  string `json:"name"`
		DType string `json:"dtype"`
		Shape []int  `json:"shape"`
		File  string `json:"file"`
	} `json:"tensors"`
}

const seedLayers = 2

var layerRe = regexp.MustCompile(`^model\.layers\.(\d+)\.`)

// writeSeedFolder writes the real folder of a seed model, cut to two layers,
// as sparse safetensors in the real shard files. The weights are zero except:
// norms are 1, the embedding rows of promptIDs are 1, and the output rows of
// the padded ids (beyond the tokenizer) are 2 — so the hidden state is all
// ones and an engine that samples from the whole vocabulary picks a padded id.
func writeSeedFolder(t *testing.T, folder, tok string, tokVocab int, promptIDs []int) string {
	t.Helper()
	src := filepath.Join("testdata", "seedconfigs", folder)
	dir := filepath.Join(t.TempDir(), folder)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	var cfg map[string]any
	readJSON(t, filepath.Join(src, "config.json"), &cfg)
	cfg["num_hidden_layers"] = seedLayers
	writeJSON(t, filepath.Join(dir, "config.json"), cfg)
	for _, f := range []string{"generation_config.json", "tokenizer_config.json"} {
		copyFile(t, filepath.Join(src, f), filepath.Join(dir, f))
	}
	tj := fixtureFile(t, tok, "tokenizer.json.gz")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer.json"), tj, 0o644))

	var layout reconstructed
	readJSON(t, filepath.Join(src, "tensors.reconstructed.json"), &layout)
	tied, _ := cfg["tie_word_embeddings"].(bool)
	hidden := int(cfg["hidden_size"].(float64))
	shards := map[string][]safetensors.SparseTensor{}
	weightMap := map[string]string{}
	var total int64
	for _, tn := range layout.Tensors {
		if m := layerRe.FindStringSubmatch(tn.Name); m != nil {
			if l, _ := strconv.Atoi(m[1]); l >= seedLayers {
				continue
			}
		}
		require.Equal(t, "BF16", tn.DType, tn.Name)
		st := safetensors.SparseTensor{Name: tn.Name, DType: safetensors.BF16, Shape: tn.Shape}
		row := func(id int, v float32) safetensors.Patch {
			return safetensors.Patch{Offset: int64(id * hidden * 2), Data: bf16s(v, hidden)}
		}
		switch {
		case regexp.MustCompile(`norm\.weight$`).MatchString(tn.Name):
			st.Patches = []safetensors.Patch{{Data: bf16s(1, tn.Shape[0])}}
		case tn.Name == "model.embed_tokens.weight" || tn.Name == "lm_head.weight":
			if tn.Name == "model.embed_tokens.weight" {
				for _, id := range promptIDs {
					st.Patches = append(st.Patches, row(id, 1))
				}
			}
			if tn.Name == "lm_head.weight" || tied {
				for id := tokVocab; id < tn.Shape[0]; id++ {
					st.Patches = append(st.Patches, row(id, 2))
				}
			}
		}
		shards[tn.File] = append(shards[tn.File], st)
		weightMap[tn.Name] = tn.File
		n := int64(2)
		for _, d := range tn.Shape {
			n *= int64(d)
		}
		total += n
	}
	for file, ts := range shards {
		require.NoError(t, safetensors.WriteSparse(filepath.Join(dir, file), ts, map[string]string{"format": "pt"}))
	}
	if len(layout.Files) > 1 {
		writeJSON(t, filepath.Join(dir, safetensors.IndexFile), map[string]any{
			"metadata": map[string]any{"total_size": total}, "weight_map": weightMap})
	}
	return dir
}

func bf16s(v float32, n int) []byte {
	b := make([]byte, 2*n)
	for i := range n {
		binary.LittleEndian.PutUint16(b[2*i:], safetensors.F32ToBF16(v))
	}
	return b
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v), path)
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, b, 0o644))
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// TestSeedLayouts loads each seed model's real folder (config, generation
// and tokenizer configs, tensor names, shapes, dtypes and shards; two layers)
// and runs a forward pass and a request. Padded vocabulary ids carry the
// largest logits there, and are never sampled.
func TestSeedLayouts(t *testing.T) {
	const prompt = "Hello world"
	for _, sm := range seedModels {
		t.Run(sm.folder, func(t *testing.T) {
			// The prompt's ids, from the same tokenizer files the folder gets.
			probe := writeSeedFolder(t, sm.folder, sm.tokenizer, sm.tokenizerVocab, nil)
			pb, err := server.Load(probe, server.LoadOptions{Threads: 2})
			require.NoError(t, err)
			ids := pb.Tokenizer.Encode(prompt, true)
			require.NoError(t, pb.Close())

			dir := writeSeedFolder(t, sm.folder, sm.tokenizer, sm.tokenizerVocab, ids)
			raw, err := engine.Load(dir, engine.Options{Threads: 2})
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, raw.Close()) })
			cfg := raw.Config()
			assert.Equal(t, seedLayers, cfg.Layers)
			logits, err := raw.NewSession().Forward(ids)
			require.NoError(t, err)
			require.Len(t, logits, cfg.VocabSize)
			if cfg.VocabSize > sm.tokenizerVocab {
				require.GreaterOrEqual(t, argmax(logits), sm.tokenizerVocab, "the test's padded rows must win without the cut")
			}

			b, err := server.Load(dir, server.LoadOptions{Threads: 2})
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, b.Close()) })
			cut, err := b.Model.NewSession().ForwardContext(context.Background(), ids)
			require.NoError(t, err)
			require.Len(t, cut, sm.tokenizerVocab, "logits cut to the tokenizer's ids")
			require.Equal(t, logits[:sm.tokenizerVocab], cut)
			require.Less(t, argmax(cut), sm.tokenizerVocab)
			require.True(t, slices.Contains(ids, argmax(cut)) || cut[argmax(cut)] == 0)

			_, c := start(t, b, server.Options{})
			evs := run(t, c, greedy("seed", prompt, 3))
			end := last(evs)
			require.Equal(t, worker.EventEnd, end.Type, "%+v", end)
			t.Logf("%s: vocab %d (tokenizer %d), %d layers of %d, greedy %q (%s)", sm.folder, cfg.VocabSize, sm.tokenizerVocab,
				cfg.Layers, cfg.Hidden, worker.Text(evs), end.StopReason)
		})
	}
}
