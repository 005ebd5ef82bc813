package hfhub

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
)

// partial is the sidecar of a <file>.incomplete (.cache/rbee/<file>.partial.json):
// which version of the file its bytes belong to and, for a file fetched as
// parallel ranges, how many bytes of each part are written. Without it a
// partial file cannot be trusted and is started over.
type partial struct {
	ID    string  `json:"id"` // the content id the hub published (sha256, else git blob id)
	Size  int64   `json:"size"`
	Chunk int64   `json:"chunk,omitempty"` // part size; 0 = one stream
	Done  []int64 `json:"done,omitempty"`  // bytes written from the start of each part
}

func contentID(e TreeEntry) string {
	if sha := e.SHA256(); sha != "" {
		return sha
	}
	if e.OID != "" {
		return e.OID
	}
	return "size:" + strconv.FormatInt(e.Size, 10)
}

func newPartial(e TreeEntry, chunk int64) *partial {
	p := &partial{ID: contentID(e), Size: e.Size, Chunk: chunk}
	if chunk > 0 {
		p.Done = make([]int64, (e.Size+chunk-1)/chunk)
	}
	return p
}

// stream reports whether p describes a one-stream partial of e.
func (p *partial) stream(e TreeEntry) bool {
	return p.ID == contentID(e) && p.Size == e.Size && p.Chunk == 0
}

// ranges reports whether p describes a parallel-ranges partial of e.
func (p *partial) ranges(e TreeEntry) bool {
	return p.ID == contentID(e) && p.Size == e.Size && p.Chunk > 0 && int64(len(p.Done)) == (e.Size+p.Chunk-1)/p.Chunk
}

// part is the byte range [lo, hi) of part i.
func (p *partial) part(i int) (lo, hi int64) {
	lo = int64(i) * p.Chunk
	return lo, min(lo+p.Chunk, p.Size)
}

// written is the number of bytes in place.
func (p *partial) written() int64 {
	var n int64
	for _, d := range p.Done {
		n += d
	}
	return n
}

// prefix is the length of the contiguous written prefix of the file.
func (p *partial) prefix() int64 {
	var n int64
	for i, d := range p.Done {
		lo, hi := p.part(i)
		n = lo + d
		if d < hi-lo {
			break
		}
	}
	return n
}

func partialPath(dir, name string) string {
	return filepath.Join(dir, ".cache", "rbee", filepath.FromSlash(name)+".partial.json")
}

func readPartial(dir, name string) *partial {
	b, err := os.ReadFile(partialPath(dir, name))
	if err != nil {
		return nil
	}
	var p partial
	if json.Unmarshal(b, &p) != nil {
		return nil
	}
	return &p
}

// writePartial replaces the sidecar atomically (a torn sidecar would claim
// bytes that are not there; the final hash would catch it, at a cost).
func writePartial(dir, name string, p *partial) error {
	path := partialPath(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, _ := json.Marshal(p)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func removePartial(dir, name string) { os.Remove(partialPath(dir, name)) }

// partialBytes is how much of e a partial file already holds.
func partialBytes(dir string, e TreeEntry, inc string) int64 {
	p := readPartial(dir, e.Path)
	st, err := os.Stat(inc)
	switch {
	case p == nil || err != nil:
		return 0
	case p.ranges(e):
		return p.written()
	case p.stream(e) && st.Size() <= e.Size:
		return st.Size()
	}
	return 0
}

// dropEmpty removes an .incomplete that holds nothing, and its sidecar.
func dropEmpty(dir, name, inc string) {
	if st, err := os.Stat(inc); err == nil && st.Size() == 0 {
		os.Remove(inc)
		removePartial(dir, name)
	}
}
