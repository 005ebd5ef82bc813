package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/gguf"
	"github.com/rbee-go/rbee/worker/realmodel"
)

// storiesVariant rewrites stories260K.gguf with metadata edits (a nil value
// drops the key) into dir/name.
func storiesVariant(t *testing.T, src, name string, edits map[string]any) string {
	t.Helper()
	f, err := gguf.Open(src)
	require.NoError(t, err)
	defer f.Close()
	w := gguf.NewWriter()
	for _, kv := range f.KVs {
		v, edited := edits[kv.Key]
		switch {
		case !edited:
			require.NoError(t, w.AddKV(kv.Key, kv.Value))
		case v != nil:
			require.NoError(t, w.AddKV(kv.Key, v))
		}
	}
	for _, tn := range f.Tensors {
		require.NoError(t, w.AddTensor(tn.Name, tn.Type, tn.Dims, tn.Data))
	}
	path := filepath.Join(filepath.Dir(src), name)
	require.NoError(t, w.WriteFile(path))
	return path
}

// withTensorType rewrites the type field of a tensor's info in a GGUF file
// (name, n_dims, dims, then the u32 type).
func withTensorType(t *testing.T, src, name, tensor string, typ uint32, dims int) string {
	t.Helper()
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	key := binary.LittleEndian.AppendUint64(nil, uint64(len(tensor)))
	at := bytes.Index(data, append(key, tensor...))
	require.Positive(t, at)
	at += len(key) + len(tensor) + 4 + 8*dims
	binary.LittleEndian.PutUint32(data[at:], typ)
	path := filepath.Join(filepath.Dir(src), name)
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return path
}

// A bad GGUF file is one error line naming what is wrong, and exit 1.
func TestCLIGGUFStartupErrors(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, realmodel.WriteGGUF(dir))
	good := filepath.Join(dir, realmodel.GGUFFile)
	truncated := filepath.Join(dir, "truncated.gguf")
	data, err := os.ReadFile(good)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(truncated, data[:len(data)/2], 0o644))
	base := []string{"--worker-id", "w1", "--port", "0"}
	for _, tt := range []struct {
		name, model, errMsg, hint string
	}{
		{"missing key", storiesVariant(t, good, "nokey.gguf", map[string]any{"llama.block_count": nil}), `missing GGUF metadata key "llama.block_count"`, "hint: --model takes"},
		{"architecture", storiesVariant(t, good, "arch.gguf", map[string]any{"general.architecture": "mamba"}), `GGUF architecture "mamba"`, "hint: the Go worker runs"},
		{"tokenizer model", storiesVariant(t, good, "tok.gguf", map[string]any{"tokenizer.ggml.model": "bert"}), `tokenizer.ggml.model "bert"`, "hint: the Go worker runs"},
		{"no tokenizer", storiesVariant(t, good, "notok.gguf", map[string]any{"tokenizer.ggml.tokens": nil}), `"tokenizer.ggml.tokens"`, "hint: --model takes"},
		{"tensor type", withTensorType(t, good, "type.gguf", "output_norm.weight", 10, 1), `tensor "output_norm.weight" has type Q2_K`, "hint: the Go worker runs"},
		{"truncated", truncated, "truncated.gguf", "hint: --model takes"},
	} {
		t.Run(tt.name, func(t *testing.T) { requireStartupError(t, append(base, "--model", tt.model), 1, tt.errMsg, tt.hint) })
	}
}
