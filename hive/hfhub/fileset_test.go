package hfhub_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/rbee-go/rbee/hive/hfhub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mistralLike is laid out like mistralai/Mistral-7B-Instruct-v0.2: HF shards
// with their index, the same weights again as consolidated.safetensors (with
// Mistral's params.json) and as PyTorch .bin shards, and original/.
func mistralLike() map[string][]byte {
	index, _ := json.Marshal(map[string]any{
		"metadata":   map[string]any{"total_size": 3 << 19},
		"weight_map": map[string]string{"a.weight": "model-00001-of-00002.safetensors", "b.weight": "model-00002-of-00002.safetensors", "c.weight": "model-00002-of-00002.safetensors"},
	})
	return map[string][]byte{
		"model-00001-of-00002.safetensors":   randomBytes(1<<19, 1),
		"model-00002-of-00002.safetensors":   randomBytes(1<<20, 2),
		"model.safetensors.index.json":       index,
		"consolidated.safetensors":           randomBytes(3<<19, 3),
		"params.json":                        []byte(`{"dim":4096,"n_layers":32}`),
		"pytorch_model-00001-of-00002.bin":   randomBytes(1<<19, 4),
		"pytorch_model.bin.index.json":       []byte(`{"weight_map":{}}`),
		"original/consolidated.00.pth":       randomBytes(1<<18, 5),
		"original/params.json":               []byte(`{}`),
		"config.json":                        []byte(`{"architectures":["MistralForCausalLM"]}`),
		"generation_config.json":             []byte(`{"bos_token_id":1}`),
		"tokenizer.json":                     []byte(`{"version":"1.0"}`),
		"tokenizer_config.json":              []byte(`{"add_bos_token":true}`),
		"tokenizer.model":                    randomBytes(4096, 6),
		"README.md":                          []byte("# mistral-like\n"),
		"special_tokens_map.json":            []byte(`{}`),
		"consolidated.00.safetensors.backup": []byte("x"),
	}
}

func names(res *hfhub.Result) []string {
	var out []string
	for _, f := range res.Files {
		out = append(out, f.Name)
	}
	sort.Strings(out)
	return out
}

func TestDefaultSetTakesTheIndexShardsOnly(t *testing.T) {
	f := newFixtureFiles(t, mistralLike())
	res, err := f.client(t).Download(context.Background(), f.request())
	require.NoError(t, err)
	want := []string{"config.json", "generation_config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
		"model.safetensors.index.json", "pytorch_model.bin.index.json", "special_tokens_map.json", "tokenizer.json", "tokenizer.model", "tokenizer_config.json"}
	assert.Equal(t, want, names(res))
	var size int64
	for _, n := range want {
		size += int64(len(f.files[n]))
	}
	assert.Equal(t, size, res.Bytes, "size_bytes counts only what was fetched")
	for _, n := range []string{"consolidated.safetensors", "params.json", "pytorch_model-00001-of-00002.bin", "original/consolidated.00.pth"} {
		assert.Zero(t, f.srv.BytesServed(repoID+"/"+n), n)
		assert.NoFileExists(t, filepath.Join(f.dest, n))
	}
	assert.NoDirExists(t, filepath.Join(f.dest, "original"))
}

func TestDefaultSetWithoutIndexSkipsConsolidated(t *testing.T) {
	files := mistralLike()
	for _, n := range []string{"model.safetensors.index.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"} {
		delete(files, n)
	}
	files["model.safetensors"] = randomBytes(1<<20, 9)
	f := newFixtureFiles(t, files)
	res, err := f.client(t).Download(context.Background(), f.request())
	require.NoError(t, err)
	assert.Contains(t, names(res), "model.safetensors")
	assert.NotContains(t, names(res), "consolidated.safetensors")
	assert.NotContains(t, names(res), "params.json")
}

func TestIncludeAsksForWhatTheDefaultLeavesOut(t *testing.T) {
	f := newFixtureFiles(t, mistralLike())
	req := f.request()
	req.Include = []string{"consolidated.safetensors", "params.json", "original/*"}
	res, err := f.client(t).Download(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, []string{"consolidated.safetensors", "original/consolidated.00.pth", "original/params.json", "params.json"}, names(res))
}

func TestIndexNamingAMissingShardIsRefused(t *testing.T) {
	files := mistralLike()
	delete(files, "model-00002-of-00002.safetensors")
	f := newFixtureFiles(t, files)
	_, err := f.client(t).Download(context.Background(), f.request())
	var he *hfhub.Error
	require.ErrorAs(t, err, &he)
	assert.Equal(t, hfhub.CodeBadResponse, he.Code)
	assert.Contains(t, he.Msg, "names the shard model-00002-of-00002.safetensors, which the repo does not have")
	assert.NoFileExists(t, filepath.Join(f.dest, "model-00001-of-00002.safetensors"))
}

func TestIncludeMatchingNothingListsTheRepo(t *testing.T) {
	f := newFixture(t)
	req := f.request()
	req.Include = []string{"*.gguf"}
	_, err := f.client(t).Download(context.Background(), req)
	require.ErrorIs(t, err, hfhub.ErrNoFiles)
	var he *hfhub.Error
	require.ErrorAs(t, err, &he)
	assert.Contains(t, he.Msg, "no file of rbee-testing/tiny@main matches *.gguf; the repo has ")
	for _, n := range []string{"README.md", "config.json", "model.safetensors", "tokenizer.json"} {
		assert.Contains(t, he.Msg, n)
	}
	assert.Contains(t, he.Hint, "--include")
	_, statErr := os.Stat(f.dest)
	assert.True(t, os.IsNotExist(statErr), "nothing is created")
}

func TestInDefaultSet(t *testing.T) {
	shards := map[string]bool{"model-00001-of-00002.safetensors": true}
	tests := []struct {
		path   string
		shards map[string]bool
		want   bool
	}{
		{"model.safetensors", nil, true},
		{"consolidated.safetensors", nil, false},
		{"consolidated-00001-of-00002.safetensors", nil, false},
		{"model-00001-of-00002.safetensors", shards, true},
		{"model.safetensors", shards, false},
		{"params.json", nil, false},
		{"config.json", shards, true},
		{"tokenizer.model", nil, true},
		{"original/tokenizer.model", nil, false},
		{"onnx/model.safetensors", nil, false},
		{"pytorch_model.bin", nil, false},
		{"README.md", nil, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, hfhub.InDefaultSet(tt.path, tt.shards), tt.path)
	}
}
