package hfhub

import (
	"fmt"
	"path"
	"strings"
)

// CodeAmbiguousGGUF: the include patterns select several .gguf files, and a
// GGUF model is one file (DESIGN §7).
const CodeAmbiguousGGUF Code = "AMBIGUOUS_GGUF"

// ErrAmbiguousGGUF matches CodeAmbiguousGGUF errors (errors.Is).
var ErrAmbiguousGGUF = &Error{Code: CodeAmbiguousGGUF}

// maxListed caps the file names an error lists.
const maxListed = 20

// IsGGUF reports whether a repo path names a GGUF file.
func IsGGUF(p string) bool { return strings.EqualFold(path.Ext(p), ".gguf") }

// SelectGGUF applies DESIGN §7's rule for GGUF repos to a repo's tree
// before anything is fetched. It returns the one .gguf file the include
// patterns select ("" when they select none and the repo is not a GGUF
// repo). Refused: several .gguf files (CodeAmbiguousGGUF, listing them); no
// .gguf file of a repo that has some while no safetensors weights are
// selected either (CodeNoFiles, listing its .gguf files).
func SelectGGUF(tree []TreeEntry, repo, revision string, include []string) (string, error) {
	var ggufs, picked []string
	weights := false
	for _, e := range tree {
		if e.Type == "directory" {
			continue
		}
		if IsGGUF(e.Path) {
			ggufs = append(ggufs, e.Path)
		}
		if !Matches(e.Path, include) {
			continue
		}
		switch {
		case IsGGUF(e.Path):
			picked = append(picked, e.Path)
		case strings.HasSuffix(e.Path, ".safetensors"):
			weights = true
		}
	}
	patterns := quoted(include)
	switch {
	case len(picked) > 1:
		return "", &Error{Code: CodeAmbiguousGGUF, Repo: repo,
			Msg:  fmt.Sprintf("--include %s selects %d .gguf files of %s@%s, a GGUF model is one file: %s", patterns, len(picked), repo, revision, list(picked)),
			Hint: fmt.Sprintf("register it with an --include that matches one of them, e.g. --include '%s'", path.Base(picked[0]))}
	case len(picked) == 1:
		return picked[0], nil
	case len(ggufs) > 0 && !weights:
		return "", &Error{Code: CodeNoFiles, Repo: repo,
			Msg:  fmt.Sprintf("--include %s selects no .gguf file of %s@%s; its .gguf files: %s", patterns, repo, revision, list(ggufs)),
			Hint: fmt.Sprintf("register it with an --include that matches one of them, e.g. --include '%s'", path.Base(ggufs[0]))}
	}
	return "", nil // patterns that select nothing: the file selection says so, listing the repo
}

func quoted(patterns []string) string {
	q := make([]string, len(patterns))
	for i, p := range patterns {
		q[i] = "'" + p + "'"
	}
	return strings.Join(q, ", ")
}

func list(names []string) string {
	if len(names) > maxListed {
		return strings.Join(names[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(names)-maxListed)
	}
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}
