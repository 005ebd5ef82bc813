package catalog_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/catalog"
)

func TestValidateID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"tinyllama", true},
		{"qwen-0.5b", true},
		{"a", true},
		{"0abc_d.e-f", true},
		{strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), false},
		{"", false},
		{"../x", false},
		{"A B", false},
		{"a;b", false},
		{"Tiny", false},
		{"-x", false},
		{".x", false},
		{"a/b", false},
		{"a$(id)", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			err := catalog.ValidateID(tt.id)
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, catalog.ErrInvalidID)
			assert.Equal(t, catalog.CodeInvalidID, catalog.CodeOf(err))
			assert.Contains(t, err.Error(), "invalid model id")
		})
	}
}

func TestParseBackends(t *testing.T) {
	tests := []struct {
		in   string
		want []catalog.Backend
		ok   bool
	}{
		{"cpu", []catalog.Backend{"cpu"}, true},
		{"cpu,metal,cuda", []catalog.Backend{"cpu", "metal", "cuda"}, true},
		{"cuda, cpu,cuda", []catalog.Backend{"cuda", "cpu"}, true},
		{"rocm", nil, false},
		{"cpu,", nil, false},
		{"", nil, false},
		{"CPU", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := catalog.ParseBackends(tt.in)
			if !tt.ok {
				assert.ErrorIs(t, err, catalog.ErrInvalidBackend)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestValidateRepo(t *testing.T) {
	tests := []struct {
		repo string
		ok   bool
	}{
		{"TinyLlama/TinyLlama-1.1B-Chat-v1.0", true},
		{"Qwen/Qwen2.5-0.5B-Instruct", true},
		{"rbee-testing/tiny-llama", true},
		{"noslash", false},
		{"a/b/c", false},
		{"/name", false},
		{"org/", false},
		{"org/na me", false},
		{"../etc", false},
		{"org/..", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.repo, func(t *testing.T) {
			err := catalog.ValidateRepo(tt.repo)
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, catalog.ErrInvalidRepo)
			}
		})
	}
}

func TestModelValidate(t *testing.T) {
	good := func() catalog.Model {
		return catalog.Model{ID: "m", Name: "M", Architecture: "llama", Format: catalog.DefaultFormat, Backends: []catalog.Backend{"cpu"},
			Metadata: catalog.Metadata{Repo: "o/n"}}
	}
	tests := []struct {
		name   string
		mutate func(*catalog.Model)
		code   catalog.Code
	}{
		{"valid", func(*catalog.Model) {}, ""},
		{"bad id", func(m *catalog.Model) { m.ID = "A" }, catalog.CodeInvalidID},
		{"no name", func(m *catalog.Model) { m.Name = " " }, catalog.CodeInvalidModel},
		{"no arch", func(m *catalog.Model) { m.Architecture = "" }, catalog.CodeInvalidModel},
		{"no backends", func(m *catalog.Model) { m.Backends = nil }, catalog.CodeInvalidBackend},
		{"unknown backend", func(m *catalog.Model) { m.Backends = []catalog.Backend{"tpu"} }, catalog.CodeInvalidBackend},
		{"dup backend", func(m *catalog.Model) { m.Backends = []catalog.Backend{"cpu", "cpu"} }, catalog.CodeInvalidBackend},
		{"bad repo", func(m *catalog.Model) { m.Metadata.Repo = "x" }, catalog.CodeInvalidRepo},
		// the rules catalog.schema.json adds, checked before every write
		{"negative size", func(m *catalog.Model) { m.SizeBytes = -1 }, catalog.CodeInvalidModel},
		{"negative size_gb", func(m *catalog.Model) { m.SizeGB = -0.5 }, catalog.CodeInvalidModel},
		{"file ok", func(m *catalog.Model) {
			m.Metadata.Files = []catalog.File{{Name: "a", Size: 1, SHA256: strings.Repeat("0f", 32)}}
		}, ""},
		{"gguf", func(m *catalog.Model) { m.Format = catalog.FormatGGUF }, ""},
		{"downloaded gguf file", func(m *catalog.Model) {
			m.Format, m.Downloaded, m.Path = catalog.FormatGGUF, true, "/h/models/m/model.Q4_K_M.gguf"
		}, ""},
		{"downloaded gguf folder", func(m *catalog.Model) {
			m.Format, m.Downloaded, m.Path = catalog.FormatGGUF, true, "/h/models/m"
		}, catalog.CodeInvalidModel},
		{"unknown format", func(m *catalog.Model) { m.Format = "onnx" }, catalog.CodeInvalidModel},
		{"no format", func(m *catalog.Model) { m.Format = "" }, catalog.CodeInvalidModel},
		{"file without name", func(m *catalog.Model) { m.Metadata.Files = []catalog.File{{Size: 1}} }, catalog.CodeInvalidModel},
		{"file negative size", func(m *catalog.Model) { m.Metadata.Files = []catalog.File{{Name: "a", Size: -1}} }, catalog.CodeInvalidModel},
		{"file bad sha256", func(m *catalog.Model) {
			m.Metadata.Files = []catalog.File{{Name: "a", SHA256: strings.Repeat("0F", 32)}}
		}, catalog.CodeInvalidModel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := good()
			tt.mutate(&m)
			assert.Equal(t, tt.code, catalog.CodeOf(m.Validate()))
		})
	}
}

func TestCatalogAddRemove(t *testing.T) {
	c := catalog.New("pool")
	m := catalog.Model{ID: "m", Name: "M", Architecture: "llama", Format: catalog.DefaultFormat, Backends: []catalog.Backend{"cpu"}, Metadata: catalog.Metadata{Repo: "o/n"}}
	require.NoError(t, c.Add(m))
	assert.ErrorIs(t, c.Add(m), catalog.ErrModelExists)
	require.NotNil(t, c.Find("m"))
	_, err := c.Remove("nope")
	assert.ErrorIs(t, err, catalog.ErrModelNotFound)
	got, err := c.Remove("m")
	require.NoError(t, err)
	assert.Equal(t, "m", got.ID)
	assert.Empty(t, c.Models)
}
