// Package testflags registers the matrix flags of DESIGN §6 on every test
// binary of the module, so `go test ./... -pools=...` works as typed. Only
// the root package acts on them; every other test package imports this one
// for its side effect (see each package's testflags_test.go).
package testflags

import (
	"flag"
	"strings"
	"time"
)

// Matrix holds the parsed matrix flags.
type Matrix struct {
	Pools       []string      // DEST:BACKEND entries
	Models      string        // "tiny", "seed", "stories" or a comma list of ids
	Hub         string        // HF endpoint; empty = default for Models
	Update      bool          // rewrite the tracked MODEL_SUPPORT.md
	CellTimeout time.Duration // per-cell deadline
}

// values points at the registered flags of one FlagSet.
type values struct {
	pools, models, hub *string
	update             *bool
	cellTimeout        *time.Duration
}

func register(fs *flag.FlagSet) values {
	return values{
		pools:       fs.String("pools", "localhost:cpu", "comma list of DEST:BACKEND pools for TestMatrix (DEST = localhost, pool name, [user@]host[:port], harness, harness-2, ...)"),
		models:      fs.String("models", "tiny", "models for TestMatrix: tiny (the CI set: stories260K and the four tiny random models), seed, stories, or a comma list of ids"),
		hub:         fs.String("hub", "", "Hugging Face endpoint for TestMatrix (default: embedded mirror for tiny, the real hub for seed)"),
		update:      fs.Bool("update", false, "rewrite the matrix section of the tracked MODEL_SUPPORT.md"),
		cellTimeout: fs.Duration("cell-timeout", 10*time.Minute, "deadline for one matrix cell"),
	}
}

func (v values) get() Matrix {
	var ps []string
	for _, p := range strings.Split(*v.pools, ",") {
		if p = strings.TrimSpace(p); p != "" {
			ps = append(ps, p)
		}
	}
	return Matrix{Pools: ps, Models: *v.models, Hub: *v.hub, Update: *v.update, CellTimeout: *v.cellTimeout}
}

// commandLine holds the flags registered on the test binary's command line:
// flag.CommandLine is the only place go test reads flags from.
var commandLine = register(flag.CommandLine)

// Get returns the matrix flags; call it after flag.Parse (inside a test).
func Get() Matrix { return commandLine.get() }

// SplitPool splits "DEST:BACKEND" at the last colon.
func SplitPool(p string) (dest, backend string, ok bool) {
	i := strings.LastIndex(p, ":")
	if i <= 0 || i == len(p)-1 {
		return "", "", false
	}
	return p[:i], p[i+1:], true
}
