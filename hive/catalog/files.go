package catalog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Changed lists the recorded files of a downloaded model that are missing
// or differ from what was verified (size, or mtime when recorded), each as
// "NAME (why)". Nothing is hashed: a stat per file is cheap enough to run
// before every spawn, and a rerun of the download rehashes what changed.
func (m *Model) Changed() []string {
	if !m.Downloaded {
		return nil
	}
	dir := m.Path
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		dir = filepath.Dir(dir) // a single-file model's path is the file itself
	}
	var out []string
	for _, f := range m.Metadata.Files {
		st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f.Name)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			out = append(out, f.Name+" (missing)")
		case err != nil:
			out = append(out, fmt.Sprintf("%s (%v)", f.Name, err))
		case st.Size() != f.Size:
			out = append(out, fmt.Sprintf("%s (%d bytes, %d verified)", f.Name, st.Size(), f.Size))
		case f.MtimeNS != 0 && st.ModTime().UnixNano() != f.MtimeNS:
			out = append(out, f.Name+" (modified since it was verified)")
		}
	}
	return out
}
