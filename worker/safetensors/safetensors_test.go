package safetensors_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/safetensors"
)

func sampleTensors(t *testing.T) []safetensors.Tensor {
	t.Helper()
	mk := func(name string, dt safetensors.DType, shape []int, n int, scale float32) safetensors.Tensor {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(i%7-3) * scale
		}
		tn, err := safetensors.FromF32(name, dt, shape, v)
		require.NoError(t, err)
		return tn
	}
	return []safetensors.Tensor{
		mk("model.norm.weight", safetensors.F32, []int{5}, 5, 0.5),
		mk("lm_head.weight", safetensors.BF16, []int{3, 5}, 15, 0.25),
		mk("model.embed_tokens.weight", safetensors.F16, []int{3, 5}, 15, 0.125),
		mk("scalar", safetensors.F32, []int{}, 1, 2),
		mk("empty", safetensors.BF16, []int{0, 4}, 0, 1),
	}
}

func TestWriteOpenRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := sampleTensors(t)
	path := filepath.Join(dir, "x.safetensors")
	require.NoError(t, safetensors.Write(path, in, map[string]string{"format": "pt"}))

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	hlen := binary.LittleEndian.Uint64(raw)
	assert.Zero(t, hlen%8, "header padded to 8 bytes")
	assert.True(t, bytes.HasSuffix(bytes.TrimRight(raw[8:8+hlen], " "), []byte("}")))
	var hdr map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw[8:8+hlen], &hdr))
	assert.JSONEq(t, `{"format":"pt"}`, string(hdr["__metadata__"]))
	// sorted by name: "empty" (0 bytes) first, then lm_head at offset 0
	assert.JSONEq(t, `{"dtype":"BF16","shape":[3,5],"data_offsets":[0,30]}`, string(hdr["lm_head.weight"]))
	assert.JSONEq(t, `{"dtype":"F32","shape":[],"data_offsets":[80,84]}`, string(hdr["scalar"]))

	s, err := safetensors.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	assert.Equal(t, []string{"empty", "lm_head.weight", "model.embed_tokens.weight", "model.norm.weight", "scalar"}, s.Names())
	assert.Equal(t, map[string]string{"format": "pt"}, s.Metadata())
	var total int64
	for _, want := range in {
		got, ok := s.Tensor(want.Name)
		require.True(t, ok, want.Name)
		assert.Equal(t, want.DType, got.DType)
		assert.Equal(t, want.Shape, got.Shape)
		assert.Equal(t, want.Data, got.Data, want.Name)
		total += int64(len(want.Data))
	}
	assert.Equal(t, total, s.Bytes())
	_, ok := s.Tensor("missing")
	assert.False(t, ok)

	// a model dir with model.safetensors opens the same way
	require.NoError(t, os.Rename(path, filepath.Join(dir, safetensors.SingleFile)))
	s2, err := safetensors.Open(dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s2.Close() })
	assert.Equal(t, s.Names(), s2.Names())
	require.NoError(t, s2.Close())
}

func TestWriteDeterministic(t *testing.T) {
	dir := t.TempDir()
	in := sampleTensors(t)
	rev := make([]safetensors.Tensor, len(in))
	for i := range in {
		rev[len(in)-1-i] = in[i]
	}
	a, b := filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "b.safetensors")
	require.NoError(t, safetensors.Write(a, in, map[string]string{"z": "1", "a": "2"}))
	require.NoError(t, safetensors.Write(b, rev, map[string]string{"a": "2", "z": "1"}))
	ra, err := os.ReadFile(a)
	require.NoError(t, err)
	rb, err := os.ReadFile(b)
	require.NoError(t, err)
	assert.Equal(t, ra, rb)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "no temp files left behind")
}

func TestWriteRejects(t *testing.T) {
	good := safetensors.Tensor{Name: "a", DType: safetensors.F32, Shape: []int{2}, Data: make([]byte, 8)}
	tests := []struct {
		name    string
		tensors []safetensors.Tensor
		want    error
		msg     string
	}{
		{"duplicate", []safetensors.Tensor{good, good}, safetensors.ErrInvalid, `"a" given twice`},
		{"size", []safetensors.Tensor{{Name: "b", DType: safetensors.F32, Shape: []int{3}, Data: make([]byte, 8)}}, safetensors.ErrInvalid, "needs 12 bytes"},
		{"dtype", []safetensors.Tensor{{Name: "c", DType: "I64", Shape: []int{1}, Data: make([]byte, 8)}}, safetensors.ErrUnsupportedDType, `"I64"`},
		{"reserved name", []safetensors.Tensor{{Name: "__metadata__", DType: safetensors.F32, Shape: []int{0}}}, safetensors.ErrInvalid, "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.safetensors")
			err := safetensors.Write(path, tt.tensors, nil)
			require.ErrorIs(t, err, tt.want)
			assert.Contains(t, err.Error(), tt.msg)
			assert.NoFileExists(t, path)
		})
	}
}

func TestShardedRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := sampleTensors(t) // sizes by name: empty 0, lm_head 30, embed 30, norm 20, scalar 4
	require.NoError(t, safetensors.WriteSharded(dir, in, 40))

	raw, err := os.ReadFile(filepath.Join(dir, safetensors.IndexFile))
	require.NoError(t, err)
	var idx struct {
		Metadata  map[string]int64  `json:"metadata"`
		WeightMap map[string]string `json:"weight_map"`
	}
	require.NoError(t, json.Unmarshal(raw, &idx))
	assert.Equal(t, int64(84), idx.Metadata["total_size"])
	assert.Equal(t, map[string]string{
		"empty":                     "model-00001-of-00003.safetensors",
		"lm_head.weight":            "model-00001-of-00003.safetensors",
		"model.embed_tokens.weight": "model-00002-of-00003.safetensors",
		"model.norm.weight":         "model-00003-of-00003.safetensors",
		"scalar":                    "model-00003-of-00003.safetensors",
	}, idx.WeightMap)

	s, err := safetensors.Open(dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	for _, want := range in {
		got, ok := s.Tensor(want.Name)
		require.True(t, ok, want.Name)
		assert.Equal(t, want.Data, got.Data, want.Name)
	}
	assert.Equal(t, map[string]string{"format": "pt"}, s.Metadata())

	// a tensor bigger than the limit gets a shard of its own
	dir2 := t.TempDir()
	require.NoError(t, safetensors.WriteSharded(dir2, in, 1))
	matches, err := filepath.Glob(filepath.Join(dir2, "model-*-of-00005.safetensors"))
	require.NoError(t, err)
	assert.Len(t, matches, 5)

	assert.Error(t, safetensors.WriteSharded(t.TempDir(), in, 0))
}

func TestShardedDeterministic(t *testing.T) {
	in := sampleTensors(t)
	a, b := t.TempDir(), t.TempDir()
	require.NoError(t, safetensors.WriteSharded(a, in, 40))
	require.NoError(t, safetensors.WriteSharded(b, in[1:], 40)) // different input, must differ
	c := t.TempDir()
	require.NoError(t, safetensors.WriteSharded(c, append(in[2:], in[:2]...), 40))
	for _, name := range []string{safetensors.IndexFile, safetensors.ShardName(1, 3), safetensors.ShardName(3, 3)} {
		ra, err := os.ReadFile(filepath.Join(a, name))
		require.NoError(t, err)
		rc, err := os.ReadFile(filepath.Join(c, name))
		require.NoError(t, err)
		assert.Equal(t, ra, rc, name)
	}
	ra, _ := os.ReadFile(filepath.Join(a, safetensors.IndexFile))
	rb, _ := os.ReadFile(filepath.Join(b, safetensors.IndexFile))
	assert.NotEqual(t, ra, rb)
}
