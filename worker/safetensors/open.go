package safetensors

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rbee-go/rbee/internal/mmap"
)

// File names of a Hugging Face model folder.
const (
	SingleFile = "model.safetensors"
	IndexFile  = "model.safetensors.index.json"
)

// Set is an opened model: the tensors of one file or of all shards.
type Set struct {
	maps     [][]byte
	tensors  map[string]Tensor
	names    []string
	metadata map[string]string
}

// Open opens a model folder (model.safetensors, else the shards listed by
// model.safetensors.index.json, the order transformers uses) or a single
// .safetensors file, memory-maps it and validates every header.
func Open(path string) (*Set, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open weights: %w", err)
	}
	s := &Set{tensors: map[string]Tensor{}}
	if !st.IsDir() {
		if err := s.addFile(path, nil); err != nil {
			return nil, errors.Join(err, s.Close())
		}
		s.finish()
		return s, nil
	}
	single := filepath.Join(path, SingleFile)
	if _, err := os.Stat(single); err == nil {
		if err := s.addFile(single, nil); err != nil {
			return nil, errors.Join(err, s.Close())
		}
		s.finish()
		return s, nil
	}
	index := filepath.Join(path, IndexFile)
	if _, err := os.Stat(index); err != nil {
		return nil, fmt.Errorf("open weights: no %s or %s in %s: %w", SingleFile, IndexFile, path, os.ErrNotExist)
	}
	if err := s.addShards(path, index); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	s.finish()
	return s, nil
}

// indexJSON mirrors model.safetensors.index.json.
type indexJSON struct {
	Metadata  map[string]any    `json:"metadata"`
	WeightMap map[string]string `json:"weight_map"`
}

func (s *Set) addShards(dir, index string) error {
	raw, err := os.ReadFile(index)
	if err != nil {
		return fmt.Errorf("open weights: %w", err)
	}
	var idx indexJSON
	if err := json.Unmarshal(raw, &idx); err != nil {
		return fmt.Errorf("%s: %w: %v", index, ErrInvalid, err)
	}
	if len(idx.WeightMap) == 0 {
		return fmt.Errorf("%s: %w: empty or missing weight_map", index, ErrInvalid)
	}
	files := map[string][]string{} // shard file → tensor names the index puts there
	for name, file := range idx.WeightMap {
		if file == "" || file != filepath.Base(file) || file == "." || file == ".." || strings.ContainsAny(file, `/\`) {
			return fmt.Errorf("%s: %w: tensor %q maps to %q, not a file name in the folder", index, ErrInvalid, name, file)
		}
		files[file] = append(files[file], name)
	}
	shards := make([]string, 0, len(files))
	for f := range files {
		shards = append(shards, f)
	}
	sort.Strings(shards)
	for _, f := range shards {
		if err := s.addFile(filepath.Join(dir, f), idx.WeightMap); err != nil {
			return err
		}
	}
	for _, f := range shards {
		for _, name := range files[f] {
			if _, ok := s.tensors[name]; !ok {
				return fmt.Errorf("%s: %w: tensor %q is not in shard %s", index, ErrInvalid, name, f)
			}
		}
	}
	return nil
}

// addFile maps one file and adds its tensors. With a weight map, each
// tensor must be listed there for this very file.
func (s *Set) addFile(path string, weightMap map[string]string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open weights: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("open weights: %w", err)
	}
	if st.IsDir() {
		return fmt.Errorf("open weights: %s is a directory", path)
	}
	data, err := mmap.Map(f, st.Size())
	if err != nil {
		return fmt.Errorf("open weights: map %s: %w", path, err)
	}
	s.maps = append(s.maps, data)
	h, err := parseHeader(data, st.Size())
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	base := filepath.Base(path)
	for _, e := range h.Entries {
		if _, dup := s.tensors[e.Name]; dup {
			return fmt.Errorf("%s: %w: tensor %q is in more than one shard", path, ErrInvalid, e.Name)
		}
		if weightMap != nil {
			if want, ok := weightMap[e.Name]; !ok {
				return fmt.Errorf("%s: %w: tensor %q is not listed in %s", path, ErrInvalid, e.Name, IndexFile)
			} else if want != base {
				return fmt.Errorf("%s: %w: tensor %q is in more than one shard (%s lists it in %s)", path, ErrInvalid, e.Name, IndexFile, want)
			}
		}
		b, end := h.DataOff+e.Begin, h.DataOff+e.End
		s.tensors[e.Name] = Tensor{Name: e.Name, DType: e.DType, Shape: e.Shape, Data: data[b:end:end]}
	}
	if s.metadata == nil && h.Metadata != nil {
		s.metadata = h.Metadata
	}
	return nil
}

func (s *Set) finish() {
	s.names = make([]string, 0, len(s.tensors))
	for n := range s.tensors {
		s.names = append(s.names, n)
	}
	sort.Strings(s.names)
}

// Tensor returns the named tensor; its Data aliases the read-only mapping.
func (s *Set) Tensor(name string) (Tensor, bool) {
	t, ok := s.tensors[name]
	return t, ok
}

// Names returns all tensor names, sorted.
func (s *Set) Names() []string { return append([]string(nil), s.names...) }

// Metadata returns the __metadata__ of the (first) file, or nil.
func (s *Set) Metadata() map[string]string { return s.metadata }

// Bytes returns the total tensor data size.
func (s *Set) Bytes() int64 {
	var n int64
	for _, t := range s.tensors {
		n += int64(len(t.Data))
	}
	return n
}

// Mapped reports the bytes of the mapped files and how many of them the
// kernel maps in 2 MiB pages (see mmap.HugeBytes).
func (s *Set) Mapped() (bytes, huge int64) {
	for _, m := range s.maps {
		bytes += int64(len(m))
		huge += mmap.HugeBytes(m)
	}
	return bytes, huge
}

// Close unmaps all files; tensors obtained from the Set become invalid.
func (s *Set) Close() error {
	var errs []error
	for _, m := range s.maps {
		errs = append(errs, mmap.Unmap(m))
	}
	s.maps, s.tensors, s.names = nil, nil, nil
	return errors.Join(errs...)
}
