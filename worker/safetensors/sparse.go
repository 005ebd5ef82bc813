package safetensors

import (
	"encoding/binary"
	"fmt"
	"os"
)

// Patch is a run of bytes at Offset within a sparse tensor's data.
type Patch struct {
	Offset int64
	Data   []byte
}

// SparseTensor is a tensor whose bytes are zero except its patches: tests
// write real-size model layouts (gigabytes) without holding or storing the
// zeros.
type SparseTensor struct {
	Name    string
	DType   DType
	Shape   []int
	Patches []Patch
}

// WriteSparse writes a safetensors file like Write, the zero bytes left as a
// hole of the file (no disk blocks on file systems with sparse files).
func WriteSparse(path string, tensors []SparseTensor, metadata map[string]string) error {
	byName := make(map[string]SparseTensor, len(tensors))
	plain := make([]Tensor, len(tensors))
	for i, t := range tensors {
		plain[i] = Tensor{Name: t.Name, DType: t.DType, Shape: t.Shape}
		byName[t.Name] = t
	}
	sorted, err := checkNames(plain)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	sizes := make([]int64, len(sorted))
	for i, t := range sorted {
		if sizes[i], err = byteSize(t.DType, t.Shape); err != nil {
			return fmt.Errorf("write %s: tensor %q: %w", path, t.Name, err)
		}
		for _, p := range byName[t.Name].Patches {
			if p.Offset < 0 || p.Offset+int64(len(p.Data)) > sizes[i] {
				return fmt.Errorf("write %s: %w: tensor %q: patch [%d, %d) outside its %d bytes", path, ErrInvalid, t.Name, p.Offset, p.Offset+int64(len(p.Data)), sizes[i])
			}
		}
	}
	hdr, err := encodeHeader(sorted, sizes, metadata)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return writeAtomicFile(path, func(f *os.File) error {
		prefix := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
		if _, err := f.Write(append(prefix, hdr...)); err != nil {
			return err
		}
		at := int64(len(prefix) + len(hdr))
		for i, t := range sorted {
			for _, p := range byName[t.Name].Patches {
				if _, err := f.WriteAt(p.Data, at+p.Offset); err != nil {
					return err
				}
			}
			at += sizes[i]
		}
		return f.Truncate(at)
	})
}
