package safetensors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
)

// Write writes tensors to one safetensors file, atomically (temp file +
// rename). Output is deterministic: tensors sorted by name, header padded
// with spaces to a multiple of 8 bytes as the reference writer does.
func Write(path string, tensors []Tensor, metadata map[string]string) error {
	sorted, err := checkTensors(tensors)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	sizes := make([]int64, len(sorted))
	for i, t := range sorted {
		sizes[i] = int64(len(t.Data))
	}
	hdr, err := encodeHeader(sorted, sizes, metadata)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return writeAtomic(path, func(w *bufio.Writer) error {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(hdr)))
		if _, err := w.Write(n[:]); err != nil {
			return err
		}
		if _, err := w.Write(hdr); err != nil {
			return err
		}
		for _, t := range sorted {
			if _, err := w.Write(t.Data); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkTensors validates names, dtypes and sizes, and returns the tensors
// sorted by name.
func checkTensors(tensors []Tensor) ([]Tensor, error) {
	sorted, err := checkNames(tensors)
	if err != nil {
		return nil, err
	}
	for _, t := range sorted {
		want, err := byteSize(t.DType, t.Shape)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		if int64(len(t.Data)) != want {
			return nil, fmt.Errorf("%w: tensor %q: %s shape %v needs %d bytes, has %d", ErrInvalid, t.Name, t.DType, t.Shape, want, len(t.Data))
		}
	}
	return sorted, nil
}

// checkNames returns the tensors sorted by name, refusing empty, reserved
// and repeated names.
func checkNames(tensors []Tensor) ([]Tensor, error) {
	sorted := append([]Tensor(nil), tensors...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for i, t := range sorted {
		if t.Name == "" || t.Name == "__metadata__" {
			return nil, fmt.Errorf("%w: tensor name %q is not allowed", ErrInvalid, t.Name)
		}
		if i > 0 && sorted[i-1].Name == t.Name {
			return nil, fmt.Errorf("%w: tensor %q given twice", ErrInvalid, t.Name)
		}
	}
	return sorted, nil
}

// encodeHeader builds the JSON header by hand so key order is fixed:
// __metadata__ first, then tensors in the given order with dtype, shape,
// data_offsets (sizes[i] bytes for sorted[i]).
func encodeHeader(sorted []Tensor, sizes []int64, metadata map[string]string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	if len(metadata) > 0 {
		m, err := json.Marshal(metadata) // map keys come out sorted
		if err != nil {
			return nil, err
		}
		b.WriteString(`"__metadata__":`)
		b.Write(m)
	}
	var off int64
	for i, t := range sorted {
		if i > 0 || len(metadata) > 0 {
			b.WriteByte(',')
		}
		name, err := json.Marshal(t.Name)
		if err != nil {
			return nil, err
		}
		b.Write(name)
		b.WriteString(`:{"dtype":`)
		b.WriteString(strconv.Quote(string(t.DType)))
		b.WriteString(`,"shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(d))
		}
		end := off + sizes[i]
		fmt.Fprintf(&b, `],"data_offsets":[%d,%d]}`, off, end)
		off = end
	}
	b.WriteByte('}')
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	return b.Bytes(), nil
}

// writeAtomic writes through a temp file in the same folder and renames it
// into place, so a failed write never leaves a half file under path.
func writeAtomic(path string, fill func(*bufio.Writer) error) error {
	return writeAtomicFile(path, func(f *os.File) error {
		w := bufio.NewWriterSize(f, 1<<20)
		if err := fill(w); err != nil {
			return err
		}
		return w.Flush()
	})
}

// writeAtomicFile is writeAtomic for writers that need the file itself
// (WriteAt, Truncate).
func writeAtomicFile(path string, fill func(*os.File) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err = fill(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ShardName returns the Hugging Face shard file name, e.g.
// model-00001-of-00003.safetensors.
func ShardName(i, n int) string {
	return fmt.Sprintf("model-%05d-of-%05d.safetensors", i, n)
}

// WriteSharded writes tensors (sorted by name) into shards of at most
// maxShardBytes of tensor data each — a larger tensor gets a shard of its
// own, as transformers does — plus model.safetensors.index.json. Each
// shard carries the metadata {"format": "pt"} that transformers expects.
func WriteSharded(dir string, tensors []Tensor, maxShardBytes int64) error {
	if maxShardBytes <= 0 {
		return fmt.Errorf("write shards: max shard size must be positive, got %d", maxShardBytes)
	}
	sorted, err := checkTensors(tensors)
	if err != nil {
		return fmt.Errorf("write shards in %s: %w", dir, err)
	}
	var shards [][]Tensor
	var cur []Tensor
	var curBytes, total int64
	for _, t := range sorted {
		n := int64(len(t.Data))
		total += n
		if len(cur) > 0 && curBytes+n > maxShardBytes {
			shards = append(shards, cur)
			cur, curBytes = nil, 0
		}
		cur = append(cur, t)
		curBytes += n
	}
	if len(cur) > 0 || len(shards) == 0 {
		shards = append(shards, cur)
	}
	weightMap := map[string]string{}
	for i, sh := range shards {
		name := ShardName(i+1, len(shards))
		if err := Write(filepath.Join(dir, name), sh, map[string]string{"format": "pt"}); err != nil {
			return err
		}
		for _, t := range sh {
			weightMap[t.Name] = name
		}
	}
	idx, err := json.MarshalIndent(struct {
		Metadata  map[string]int64  `json:"metadata"`
		WeightMap map[string]string `json:"weight_map"`
	}{map[string]int64{"total_size": total}, weightMap}, "", "  ")
	if err != nil {
		return fmt.Errorf("write shards in %s: %w", dir, err)
	}
	idx = append(idx, '\n')
	return writeAtomic(filepath.Join(dir, IndexFile), func(w *bufio.Writer) error {
		_, err := w.Write(idx)
		return err
	})
}
