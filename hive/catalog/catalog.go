// Package catalog is the pool-local model catalog of DESIGN §3: the
// models/catalog.json document, its validation, and a Store that reads it and
// updates it with atomic, locked writes.
package catalog

import (
	"encoding/json"
	"fmt"
	"time"
)

// Version is the catalog document version this package writes.
const Version = "1.0"

// Model file formats. DefaultFormat is a Hugging Face folder (path = the
// folder); FormatGGUF is one .gguf file (path = that file, DESIGN §7).
const (
	DefaultFormat = "safetensors"
	FormatGGUF    = "gguf"
)

// Extra holds JSON fields this package does not know, so a catalog written by
// a newer tool (or the seed) keeps them across our writes.
type Extra map[string]json.RawMessage

// Catalog is the whole models/catalog.json document.
type Catalog struct {
	Version   string    `json:"version"`
	PoolID    string    `json:"pool_id"`
	UpdatedAt time.Time `json:"updated_at"`
	Models    []Model   `json:"models"`
	Extra     Extra     `json:"-"`
}

// Model is one catalog entry.
type Model struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Path         string    `json:"path"`
	Format       string    `json:"format"`
	SizeGB       float64   `json:"size_gb"`
	SizeBytes    int64     `json:"size_bytes"`
	Architecture string    `json:"architecture"`
	Downloaded   bool      `json:"downloaded"`
	Backends     []Backend `json:"backends"`
	Metadata     Metadata  `json:"metadata"`
	Extra        Extra     `json:"-"`
}

// Metadata records where a model comes from and, once downloaded, its files.
type Metadata struct {
	Repo     string   `json:"repo"`
	Revision string   `json:"revision,omitempty"`
	Commit   string   `json:"commit,omitempty"`
	Include  []string `json:"include,omitempty"` // download globs; empty = the default set
	Files    []File   `json:"files,omitempty"`
	Extra    Extra    `json:"-"`
}

// File is one downloaded file of a model.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	Extra  Extra  `json:"-"`
}

// New returns an empty catalog for a pool.
func New(poolID string) *Catalog {
	return &Catalog{Version: Version, PoolID: poolID, Models: []Model{}}
}

// Find returns the entry with this id, or nil.
func (c *Catalog) Find(id string) *Model {
	for i := range c.Models {
		if c.Models[i].ID == id {
			return &c.Models[i]
		}
	}
	return nil
}

// Add validates m and appends it; an id already present is ErrModelExists.
func (c *Catalog) Add(m Model) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if c.Find(m.ID) != nil {
		return &Error{Code: CodeModelExists, Msg: fmt.Sprintf("model %q is already registered", m.ID),
			Hint: fmt.Sprintf("unregister it first: rbee-hive models unregister %s", m.ID)}
	}
	c.Models = append(c.Models, m)
	return nil
}

// Remove deletes the entry with this id and returns it.
func (c *Catalog) Remove(id string) (Model, error) {
	for i := range c.Models {
		if c.Models[i].ID == id {
			m := c.Models[i]
			c.Models = append(c.Models[:i], c.Models[i+1:]...)
			return m, nil
		}
	}
	return Model{}, NotFound(id)
}

// NotFound is the MODEL_NOT_FOUND error for an id.
func NotFound(id string) *Error {
	return &Error{Code: CodeModelNotFound, Msg: fmt.Sprintf("model %q is not in the catalog", id),
		Hint: "see registered models with: rbee-hive models catalog"}
}

// Counts reports how many models are registered and downloaded.
func (c *Catalog) Counts() (registered, downloaded int) {
	for _, m := range c.Models {
		if m.Downloaded {
			downloaded++
		}
	}
	return len(c.Models), downloaded
}

// HasBackend reports whether the model lists backend b.
func (m *Model) HasBackend(b Backend) bool {
	for _, x := range m.Backends {
		if x == b {
			return true
		}
	}
	return false
}

// Each type gets an alias without methods so the (un)marshalers below can
// use encoding/json's struct handling and add the unknown fields around it.
type (
	catalogFields  Catalog
	modelFields    Model
	metadataFields Metadata
	fileFields     File
)

func (c Catalog) MarshalJSON() ([]byte, error) {
	if c.Models == nil {
		c.Models = []Model{}
	}
	return marshalWithExtra(catalogFields(c), c.Extra)
}

func (c *Catalog) UnmarshalJSON(b []byte) error {
	return unmarshalWithExtra(b, (*catalogFields)(c), &c.Extra)
}

func (m Model) MarshalJSON() ([]byte, error) {
	if m.Backends == nil {
		m.Backends = []Backend{}
	}
	return marshalWithExtra(modelFields(m), m.Extra)
}

func (m *Model) UnmarshalJSON(b []byte) error {
	return unmarshalWithExtra(b, (*modelFields)(m), &m.Extra)
}

func (m Metadata) MarshalJSON() ([]byte, error) {
	return marshalWithExtra(metadataFields(m), m.Extra)
}

func (m *Metadata) UnmarshalJSON(b []byte) error {
	return unmarshalWithExtra(b, (*metadataFields)(m), &m.Extra)
}

func (f File) MarshalJSON() ([]byte, error) { return marshalWithExtra(fileFields(f), f.Extra) }

func (f *File) UnmarshalJSON(b []byte) error {
	return unmarshalWithExtra(b, (*fileFields)(f), &f.Extra)
}
