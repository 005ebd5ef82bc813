package hive

import (
	"path/filepath"
	"strings"

	"github.com/rbee-go/rbee/hive/catalog"
	"github.com/rbee-go/rbee/hive/hfhub"
)

// formatOf is the model format a registration's include patterns ask for:
// gguf when one of them names .gguf files (DESIGN §7), else the default.
func formatOf(include []string) string {
	for _, p := range include {
		if hfhub.IsGGUF(strings.TrimRight(p, "*?]")) {
			return catalog.FormatGGUF
		}
	}
	return catalog.DefaultFormat
}

// locate is where the worker finds a downloaded model: the one .gguf file
// when the download holds one (the hub client refuses several), else the
// model folder.
func locate(dir string, files []hfhub.FileResult) (format, path string) {
	for _, f := range files {
		if hfhub.IsGGUF(f.Name) {
			return catalog.FormatGGUF, filepath.Join(dir, filepath.FromSlash(f.Name))
		}
	}
	return catalog.DefaultFormat, dir
}
