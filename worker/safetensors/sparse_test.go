package safetensors_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/safetensors"
)

// A sparse file is byte for byte the dense file of the same tensors.
func TestWriteSparseEqualsDense(t *testing.T) {
	dir := t.TempDir()
	dense := sampleTensors(t)
	var sparse []safetensors.SparseTensor
	for i, tn := range dense {
		st := safetensors.SparseTensor{Name: tn.Name, DType: tn.DType, Shape: tn.Shape}
		if i%2 == 0 { // the others stay all-zero holes
			half := len(tn.Data) / 2
			st.Patches = []safetensors.Patch{{Offset: 0, Data: tn.Data[:half]}, {Offset: int64(half), Data: tn.Data[half:]}}
		} else {
			dense[i].Data = make([]byte, len(tn.Data))
		}
		sparse = append(sparse, st)
	}
	meta := map[string]string{"format": "pt"}
	require.NoError(t, safetensors.Write(filepath.Join(dir, "dense.safetensors"), dense, meta))
	require.NoError(t, safetensors.WriteSparse(filepath.Join(dir, "sparse.safetensors"), sparse, meta))
	want, err := os.ReadFile(filepath.Join(dir, "dense.safetensors"))
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(dir, "sparse.safetensors"))
	require.NoError(t, err)
	require.Equal(t, want, got)
}

// A gigabyte of zeros takes (almost) no disk.
func TestWriteSparseHoles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.safetensors")
	big := safetensors.SparseTensor{Name: "w", DType: safetensors.BF16, Shape: []int{32768, 16384},
		Patches: []safetensors.Patch{{Offset: 1 << 29, Data: []byte{0x80, 0x3f}}}}
	require.NoError(t, safetensors.WriteSparse(path, []safetensors.SparseTensor{big}, nil))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Greater(t, fi.Size(), int64(1<<30))
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		require.Less(t, st.Blocks*512, int64(1<<20), "holes stay unallocated")
	}
	set, err := safetensors.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, set.Close()) })
	w, ok := set.Tensor("w")
	require.True(t, ok)
	require.Equal(t, []byte{0x80, 0x3f}, w.Data[1<<29:1<<29+2])
	require.Zero(t, w.Data[0])
}

func TestWriteSparseRejects(t *testing.T) {
	dir := t.TempDir()
	for name, c := range map[string]struct {
		ts   []safetensors.SparseTensor
		want error
	}{
		"patch outside": {[]safetensors.SparseTensor{{Name: "a", DType: safetensors.F32, Shape: []int{2}, Patches: []safetensors.Patch{{Offset: 6, Data: make([]byte, 4)}}}}, safetensors.ErrInvalid},
		"twice":         {[]safetensors.SparseTensor{{Name: "a", DType: safetensors.F32, Shape: []int{2}}, {Name: "a", DType: safetensors.F32, Shape: []int{2}}}, safetensors.ErrInvalid},
		"bad dtype":     {[]safetensors.SparseTensor{{Name: "a", DType: "F7", Shape: []int{2}}}, safetensors.ErrUnsupportedDType},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, "x.safetensors")
			require.ErrorIs(t, safetensors.WriteSparse(path, c.ts, nil), c.want)
			require.NoFileExists(t, path)
		})
	}
}
