package workers

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"time"
)

// BinaryVersion identifies a worker binary by its content: "NAME
// sha256:PREFIX", or "" when it cannot be read. A matrix resume reuses a
// cell only when this matches what the cell ran with; a content hash also
// tells apart two builds with the same version string, and nothing is
// executed (a binary that does not know --version could start serving).
// The hash is cached by path, size and mtime under the workers directory.
func (m *Manager) BinaryVersion(path string) string {
	if path == "" {
		return ""
	}
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return ""
	}
	key := sha256.Sum256([]byte(path))
	cachePath := filepath.Join(m.dir(), "version-cache", hex.EncodeToString(key[:8])+".json")
	type entry struct {
		Path    string    `json:"path"`
		Size    int64     `json:"size"`
		MTime   time.Time `json:"mtime"`
		Version string    `json:"version"`
	}
	if raw, err := os.ReadFile(cachePath); err == nil {
		var c entry
		if json.Unmarshal(raw, &c) == nil && c.Path == path && c.Size == st.Size() && c.MTime.Equal(st.ModTime()) {
			return c.Version
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	v := filepath.Base(path) + " sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
	if raw, err := json.Marshal(entry{Path: path, Size: st.Size(), MTime: st.ModTime(), Version: v}); err == nil &&
		os.MkdirAll(filepath.Dir(cachePath), 0o755) == nil {
		tmp := cachePath + ".tmp"
		if os.WriteFile(tmp, raw, 0o644) == nil {
			_ = os.Rename(tmp, cachePath) // a cache: a failed write only costs a rehash
		}
	}
	return v
}
