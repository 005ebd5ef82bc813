package catalog

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// Backend is a compute backend a model can run on.
type Backend string

// The backends of DESIGN §3.
const (
	BackendCPU   Backend = "cpu"
	BackendMetal Backend = "metal"
	BackendCUDA  Backend = "cuda"
)

// AllBackends lists every known backend, in display order.
func AllBackends() []Backend { return []Backend{BackendCPU, BackendMetal, BackendCUDA} }

// MaxIDLen is the longest model id accepted.
const MaxIDLen = 64

var (
	idPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	repoPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$`)
	// the rules of catalog.schema.json that the types alone do not enforce
	sha256Pattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// ValidateID checks a model id against ^[a-z0-9][a-z0-9._-]{0,63}$. The id
// becomes a directory name, so this is also what keeps `../x` out of the home.
func ValidateID(id string) error {
	if idPattern.MatchString(id) {
		return nil
	}
	why := "must match ^[a-z0-9][a-z0-9._-]{0,63}$"
	switch {
	case id == "":
		why = "must not be empty"
	case len(id) > MaxIDLen:
		why = fmt.Sprintf("is %d characters, at most %d allowed", len(id), MaxIDLen)
	}
	return &Error{Code: CodeInvalidID, Msg: fmt.Sprintf("invalid model id %q: %s", id, why),
		Hint: "use lowercase letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. qwen-0.5b)"}
}

// ParseBackend checks one backend name.
func ParseBackend(s string) (Backend, error) {
	for _, b := range AllBackends() {
		if string(b) == s {
			return b, nil
		}
	}
	return "", &Error{Code: CodeInvalidBackend, Msg: fmt.Sprintf("unknown backend %q", s),
		Hint: "backends are cpu, metal and cuda"}
}

// ParseBackends parses a comma list such as "cpu,cuda"; duplicates are dropped.
func ParseBackends(list string) ([]Backend, error) {
	var out []Backend
	seen := map[Backend]bool{}
	for _, part := range strings.Split(list, ",") {
		b, err := ParseBackend(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		if !seen[b] {
			seen[b] = true
			out = append(out, b)
		}
	}
	return out, nil
}

// ValidateRepo checks a Hugging Face repo id of the form ORG/NAME.
func ValidateRepo(repo string) error {
	if repoPattern.MatchString(repo) && !strings.Contains(repo, "..") {
		return nil
	}
	return &Error{Code: CodeInvalidRepo, Msg: fmt.Sprintf("invalid repo %q: must be ORG/NAME", repo),
		Hint: "e.g. --repo Qwen/Qwen2.5-0.5B-Instruct"}
}

// Validate checks one catalog entry.
func (m *Model) Validate() error {
	if err := ValidateID(m.ID); err != nil {
		return err
	}
	if strings.TrimSpace(m.Name) == "" {
		return &Error{Code: CodeInvalidModel, Msg: fmt.Sprintf("model %q: name must not be empty", m.ID), Hint: "pass --name"}
	}
	if strings.TrimSpace(m.Architecture) == "" {
		return &Error{Code: CodeInvalidModel, Msg: fmt.Sprintf("model %q: architecture must not be empty", m.ID), Hint: "pass --architecture (e.g. llama, qwen, phi, mistral)"}
	}
	if len(m.Backends) == 0 {
		return &Error{Code: CodeInvalidBackend, Msg: fmt.Sprintf("model %q: at least one backend is required", m.ID), Hint: "backends are cpu, metal and cuda"}
	}
	seen := map[Backend]bool{}
	for _, b := range m.Backends {
		if _, err := ParseBackend(string(b)); err != nil {
			return err
		}
		if seen[b] {
			return &Error{Code: CodeInvalidBackend, Msg: fmt.Sprintf("model %q: backend %q listed twice", m.ID, b)}
		}
		seen[b] = true
	}
	switch {
	case m.Format != DefaultFormat && m.Format != FormatGGUF:
		return &Error{Code: CodeInvalidModel, Msg: fmt.Sprintf("model %q: format %q (known: %s, %s)", m.ID, m.Format, DefaultFormat, FormatGGUF)}
	case m.Format == FormatGGUF && m.Downloaded && !strings.EqualFold(filepath.Ext(m.Path), ".gguf"):
		return &Error{Code: CodeInvalidModel, Msg: fmt.Sprintf("model %q: a downloaded gguf model's path must be its .gguf file, not %s", m.ID, m.Path)}
	}
	if m.SizeBytes < 0 || m.SizeGB < 0 {
		return &Error{Code: CodeInvalidModel, Msg: fmt.Sprintf("model %q: negative size", m.ID)}
	}
	for _, f := range m.Metadata.Files {
		if f.Name == "" || f.Size < 0 || (f.SHA256 != "" && !sha256Pattern.MatchString(f.SHA256)) {
			return &Error{Code: CodeInvalidModel, Msg: fmt.Sprintf("model %q: file entry %q: needs a name, a size ≥ 0 and a lowercase hex sha256", m.ID, f.Name)}
		}
	}
	return ValidateRepo(m.Metadata.Repo)
}

// Validate checks every entry and that ids are unique.
func (c *Catalog) Validate() error {
	seen := map[string]bool{}
	for i := range c.Models {
		m := &c.Models[i]
		if err := m.Validate(); err != nil {
			return err
		}
		if seen[m.ID] {
			return &Error{Code: CodeModelExists, Msg: fmt.Sprintf("model %q is listed twice", m.ID)}
		}
		seen[m.ID] = true
	}
	return nil
}
