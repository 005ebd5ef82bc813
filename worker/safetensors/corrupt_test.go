package safetensors_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/safetensors"
)

// rawFile assembles a safetensors file from a literal header and data.
func rawFile(header string, data []byte) []byte {
	out := make([]byte, 8, 8+len(header)+len(data))
	binary.LittleEndian.PutUint64(out, uint64(len(header)))
	out = append(out, header...)
	return append(out, data...)
}

func TestOpenCorrupt(t *testing.T) {
	valid := rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8))
	hugeLen := make([]byte, 16)
	binary.LittleEndian.PutUint64(hugeLen, 1<<40)
	tests := []struct {
		name string
		file []byte
		want error
		msg  string
	}{
		{"empty file", nil, safetensors.ErrInvalid, "truncated"},
		{"short length", []byte{1, 2, 3}, safetensors.ErrInvalid, "truncated"},
		{"header beyond file", valid[:20], safetensors.ErrInvalid, "runs past the end"},
		{"absurd header length", hugeLen, safetensors.ErrInvalid, "exceeds"},
		{"gguf", append([]byte("GGUF\x03\x00\x00\x00"), make([]byte, 32)...), safetensors.ErrInvalid, "GGUF file"},
		{"truncated data", valid[:len(valid)-1], safetensors.ErrInvalid, "beyond the 7-byte data section"},
		{"trailing bytes", append(append([]byte{}, valid...), 0), safetensors.ErrInvalid, "trailing"},
		{"not json", rawFile(`not json`, nil), safetensors.ErrInvalid, "not a JSON object"},
		{"bad json", rawFile(`{"a":{"dtype":`, nil), safetensors.ErrInvalid, "unexpected EOF"},
		{"json then junk", rawFile(`{} {}`, nil), safetensors.ErrInvalid, "trailing data"},
		{"invalid utf8", rawFile("{\"\xff\":1}", nil), safetensors.ErrInvalid, "UTF-8"},
		{"missing fields", rawFile(`{"a":{"dtype":"F32","shape":[2]}}`, nil), safetensors.ErrInvalid, "needs dtype, shape and data_offsets"},
		{"offsets not a pair", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}`, nil), safetensors.ErrInvalid, "[begin, end]"},
		{"offsets reversed", rawFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, make([]byte, 8)), safetensors.ErrInvalid, "bad data_offsets"},
		{"size mismatch", rawFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, make([]byte, 8)), safetensors.ErrInvalid, "needs 12 bytes"},
		{"unknown dtype", rawFile(`{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, make([]byte, 8)), safetensors.ErrUnsupportedDType, `"I64"`},
		{"negative dim", rawFile(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}`, nil), safetensors.ErrInvalid, "negative dimension"},
		{"out of bounds", rawFile(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, make([]byte, 8)), safetensors.ErrInvalid, "beyond"},
		{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, make([]byte, 12)), safetensors.ErrInvalid, `overlap tensor "a"`},
		{"gap", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), safetensors.ErrInvalid, "gap"},
		{"duplicate name", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), safetensors.ErrInvalid, `"a" twice`},
		{"bad metadata", rawFile(`{"__metadata__":{"n":1}}`, nil), safetensors.ErrInvalid, "__metadata__"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.safetensors")
			require.NoError(t, os.WriteFile(path, tt.file, 0o644))
			s, err := safetensors.Open(path)
			require.ErrorIs(t, err, tt.want)
			assert.Nil(t, s)
			assert.Contains(t, err.Error(), tt.msg)
			assert.Contains(t, err.Error(), path, "the error names the file")
		})
	}
	path := filepath.Join(t.TempDir(), "ok.safetensors")
	require.NoError(t, os.WriteFile(path, valid, 0o644))
	s, err := safetensors.Open(path)
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

func TestOpenShardErrors(t *testing.T) {
	a := rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4))
	ab := rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8))
	b := rawFile(`{"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4))
	tests := []struct {
		name  string
		files map[string][]byte
		index string
		msg   string
	}{
		{"duplicate across shards", map[string][]byte{"s1": a, "s2": ab}, `{"weight_map":{"a":"s1","b":"s2"}}`, `"a" is in more than one shard`},
		{"missing from shard", map[string][]byte{"s1": a}, `{"weight_map":{"a":"s1","b":"s1"}}`, `"b" is not in shard s1`},
		{"not in index", map[string][]byte{"s1": ab}, `{"weight_map":{"a":"s1"}}`, `"b" is not listed`},
		{"escaping path", map[string][]byte{"s1": a}, `{"weight_map":{"a":"../s1"}}`, "not a file name"},
		{"empty map", map[string][]byte{"s1": a}, `{"weight_map":{}}`, "empty or missing weight_map"},
		{"bad json", nil, `{"weight_map":`, "invalid safetensors"},
		{"corrupt shard", map[string][]byte{"s1": a[:10], "s2": b}, `{"weight_map":{"a":"s1","b":"s2"}}`, "s1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range tt.files {
				require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
			}
			require.NoError(t, os.WriteFile(filepath.Join(dir, safetensors.IndexFile), []byte(tt.index), 0o644))
			_, err := safetensors.Open(dir)
			require.ErrorIs(t, err, safetensors.ErrInvalid)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}

	t.Run("missing shard file", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, safetensors.IndexFile), []byte(`{"weight_map":{"a":"s1"}}`), 0o644))
		_, err := safetensors.Open(dir)
		require.ErrorIs(t, err, os.ErrNotExist)
		assert.Contains(t, err.Error(), "s1")
	})
	t.Run("empty dir", func(t *testing.T) {
		dir := t.TempDir()
		_, err := safetensors.Open(dir)
		require.ErrorIs(t, err, os.ErrNotExist)
		assert.Contains(t, err.Error(), safetensors.IndexFile)
	})
	t.Run("missing path", func(t *testing.T) {
		_, err := safetensors.Open(filepath.Join(t.TempDir(), "nope"))
		require.ErrorIs(t, err, os.ErrNotExist)
	})
	t.Run("single file wins over index", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, safetensors.SingleFile), b, 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, safetensors.IndexFile), []byte(`garbage`), 0o644))
		s, err := safetensors.Open(dir)
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		assert.Equal(t, []string{"b"}, s.Names())
	})
}
