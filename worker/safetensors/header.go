package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"unicode/utf8"
)

// maxHeaderSize bounds the JSON header like the reference Rust
// implementation does (100 MB), so a corrupt length cannot exhaust memory.
const maxHeaderSize = 100 << 20

// entry is one tensor of a parsed header; Begin/End are relative to the
// start of the data section.
type entry struct {
	Name       string
	DType      DType
	Shape      []int
	Begin, End int64
}

// header is a parsed and validated safetensors header.
type header struct {
	Entries  []entry // sorted by name
	Metadata map[string]string
	DataOff  int64 // absolute offset of the data section (8 + header length)
}

// rawEntry mirrors one tensor object of the JSON header.
type rawEntry struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int   `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// parseHeader validates the first bytes of a safetensors file of the given
// total size. prefix must hold at least the 8-byte length and the whole
// header (callers pass the mapped file).
func parseHeader(prefix []byte, fileSize int64) (*header, error) {
	if fileSize < 8 || len(prefix) < 8 {
		return nil, fmt.Errorf("%w: truncated: %d bytes, need at least 8 for the header length", ErrInvalid, fileSize)
	}
	if bytes.HasPrefix(prefix, []byte("GGUF")) {
		return nil, fmt.Errorf("%w: this is a GGUF file, not safetensors", ErrInvalid)
	}
	n := binary.LittleEndian.Uint64(prefix[:8])
	if n > maxHeaderSize {
		return nil, fmt.Errorf("%w: header length %d exceeds the %d-byte limit", ErrInvalid, n, maxHeaderSize)
	}
	if int64(n) > fileSize-8 || int64(n) > int64(len(prefix))-8 {
		return nil, fmt.Errorf("%w: header length %d runs past the end of the %d-byte file (truncated?)", ErrInvalid, n, fileSize)
	}
	raw := prefix[8 : 8+n]
	if !utf8.Valid(raw) {
		return nil, fmt.Errorf("%w: header is not valid UTF-8", ErrInvalid)
	}
	if len(bytes.TrimSpace(raw)) == 0 || bytes.TrimSpace(raw)[0] != '{' {
		return nil, fmt.Errorf("%w: header is not a JSON object", ErrInvalid)
	}
	h := &header{DataOff: 8 + int64(n)}
	if err := decodeHeaderJSON(raw, h); err != nil {
		return nil, err
	}
	if err := checkLayout(h.Entries, fileSize-h.DataOff); err != nil {
		return nil, err
	}
	return h, nil
}

// decodeHeaderJSON walks the top-level object token by token so duplicate
// names are caught (a map decode would silently keep the last one).
func decodeHeaderJSON(raw []byte, h *header) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("%w: header JSON: %v", ErrInvalid, err)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: header JSON: %v", ErrInvalid, err)
		}
		name, ok := tok.(string)
		if !ok {
			return fmt.Errorf("%w: header JSON: unexpected %v", ErrInvalid, tok)
		}
		if seen[name] {
			return fmt.Errorf("%w: header names %q twice", ErrInvalid, name)
		}
		seen[name] = true
		if name == "__metadata__" {
			if err := dec.Decode(&h.Metadata); err != nil {
				return fmt.Errorf("%w: __metadata__ must map strings to strings: %v", ErrInvalid, err)
			}
			continue
		}
		var r rawEntry
		if err := dec.Decode(&r); err != nil {
			return fmt.Errorf("%w: tensor %q: %v", ErrInvalid, name, err)
		}
		e, err := r.toEntry(name)
		if err != nil {
			return err
		}
		h.Entries = append(h.Entries, e)
	}
	if _, err := dec.Token(); err != nil { // closing brace
		return fmt.Errorf("%w: header JSON: %v", ErrInvalid, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: trailing data after the header JSON object", ErrInvalid)
	}
	sort.Slice(h.Entries, func(i, j int) bool { return h.Entries[i].Name < h.Entries[j].Name })
	return nil
}

func (r rawEntry) toEntry(name string) (entry, error) {
	if r.DType == nil || r.Shape == nil || r.DataOffsets == nil {
		return entry{}, fmt.Errorf("%w: tensor %q: needs dtype, shape and data_offsets", ErrInvalid, name)
	}
	if len(*r.DataOffsets) != 2 {
		return entry{}, fmt.Errorf("%w: tensor %q: data_offsets must be [begin, end]", ErrInvalid, name)
	}
	e := entry{Name: name, DType: DType(*r.DType), Shape: *r.Shape, Begin: (*r.DataOffsets)[0], End: (*r.DataOffsets)[1]}
	if e.Shape == nil {
		e.Shape = []int{}
	}
	want, err := byteSize(e.DType, e.Shape)
	if err != nil {
		return entry{}, fmt.Errorf("tensor %q: %w", name, err)
	}
	if e.Begin < 0 || e.End < e.Begin {
		return entry{}, fmt.Errorf("%w: tensor %q: bad data_offsets [%d, %d]", ErrInvalid, name, e.Begin, e.End)
	}
	if e.End-e.Begin != want {
		return entry{}, fmt.Errorf("%w: tensor %q: %s shape %v needs %d bytes, data_offsets [%d, %d] hold %d",
			ErrInvalid, name, e.DType, e.Shape, want, e.Begin, e.End, e.End-e.Begin)
	}
	return e, nil
}

// checkLayout requires the tensors to tile the data section exactly, as the
// reference implementation does: no overlap, no hole, nothing past the end.
func checkLayout(entries []entry, dataLen int64) error {
	byOff := append([]entry(nil), entries...)
	sort.SliceStable(byOff, func(i, j int) bool {
		if byOff[i].Begin != byOff[j].Begin {
			return byOff[i].Begin < byOff[j].Begin
		}
		return byOff[i].End < byOff[j].End
	})
	var pos int64
	prev := ""
	for _, e := range byOff {
		if e.End > dataLen {
			return fmt.Errorf("%w: tensor %q: data_offsets [%d, %d] beyond the %d-byte data section (truncated?)", ErrInvalid, e.Name, e.Begin, e.End, dataLen)
		}
		if e.Begin < pos {
			return fmt.Errorf("%w: tensor %q: data_offsets [%d, %d] overlap tensor %q", ErrInvalid, e.Name, e.Begin, e.End, prev)
		}
		if e.Begin > pos {
			return fmt.Errorf("%w: gap in data section at bytes [%d, %d) before tensor %q", ErrInvalid, pos, e.Begin, e.Name)
		}
		pos, prev = e.End, e.Name
	}
	if pos != dataLen {
		return fmt.Errorf("%w: data section is %d bytes but tensors cover %d (truncated or trailing bytes)", ErrInvalid, dataLen, pos)
	}
	return nil
}
