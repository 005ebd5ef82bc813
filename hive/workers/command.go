package workers

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// DefaultBinary is the worker executable looked up on PATH.
const DefaultBinary = "llm-worker-rbee"

// DefaultArgs is the DESIGN §5 command line. It is the only place the
// worker's flags are spelled; pools whose worker build takes other flags
// override it (see ArgsTemplate) instead of patching code.
func DefaultArgs() []string {
	return []string{
		"--worker-id", "{id}", "--model", "{model}", "--port", "{port}",
		"--callback-url", "{callback}", "--backend", "{backend}", "--device", "{gpu}",
	}
}

// ArgsFile is the per-home override of the argument template, e.g.
//
//	args = ["--worker-id", "{id}", "--model", "{model}", "--port", "{port}"]
//	[backends.cuda]
//	args = ["--id", "{id}", "--weights", "{model}", "--port", "{port}", "--gpu", "{gpu}"]
const ArgsFile = "worker-args.toml"

// isPlaceholder says whether {name} may appear in a template.
func isPlaceholder(name string) bool {
	switch name {
	case "id", "model", "model_id", "port", "callback", "backend", "gpu":
		return true
	}
	return false
}

var placeholderRE = regexp.MustCompile(`\{([a-z_]*)\}`)

// argsFile is the shape of worker-args.toml.
type argsFile struct {
	Args     []string `toml:"args"`
	Backends map[string]struct {
		Args []string `toml:"args"`
	} `toml:"backends"`
}

// ArgsTemplate returns the argument template for backend and where it came
// from. First match wins: env RBEE_WORKER_ARGS_<BACKEND>, env
// RBEE_WORKER_ARGS (both split at whitespace; placeholders are substituted
// after splitting, so paths with spaces stay one argument), then
// Home/worker-args.toml [backends.<backend>] args, its top-level args, then
// DefaultArgs.
func (m *Manager) ArgsTemplate(backend string) (args []string, source string, err error) {
	for _, key := range []string{"RBEE_WORKER_ARGS_" + strings.ToUpper(backend), "RBEE_WORKER_ARGS"} {
		if v := strings.TrimSpace(m.getenv(key)); v != "" {
			return strings.Fields(v), "$" + key, nil
		}
	}
	path := filepath.Join(m.Home, ArgsFile)
	var f argsFile
	if _, err := toml.DecodeFile(path, &f); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return DefaultArgs(), "default", nil
		}
		e := newError(CodeWorkerArgsInvalid, "fix or remove "+path, "cannot read %s", path)
		e.Err = err
		return nil, "", e
	}
	if b, ok := f.Backends[backend]; ok && len(b.Args) > 0 {
		return b.Args, path + " [backends." + backend + "]", nil
	}
	if len(f.Args) > 0 {
		return f.Args, path, nil
	}
	return DefaultArgs(), "default", nil
}

// renderArgs substitutes placeholders; an unknown one is a configuration
// error caught before any process starts.
func renderArgs(tmpl []string, source string, vals map[string]string) ([]string, error) {
	out := make([]string, len(tmpl))
	for i, a := range tmpl {
		var bad string
		out[i] = placeholderRE.ReplaceAllStringFunc(a, func(p string) string {
			name := p[1 : len(p)-1]
			if !isPlaceholder(name) {
				bad = p
				return p
			}
			return vals[name]
		})
		if bad != "" {
			return nil, newError(CodeWorkerArgsInvalid,
				"placeholders: {id} {model} {model_id} {port} {callback} {backend} {gpu}",
				"unknown placeholder %s in worker argument template from %s", bad, source)
		}
	}
	return out, nil
}

// templateValues are the placeholder values for one spawn.
func templateValues(id string, mdl Model, port int, callback, backend string, gpu int) map[string]string {
	return map[string]string{
		"id": id, "model": mdl.Path, "model_id": mdl.ID, "port": strconv.Itoa(port),
		"callback": callback, "backend": backend, "gpu": strconv.Itoa(gpu),
	}
}

// ResolveBinary finds the worker executable for backend:
// RBEE_WORKER_BIN_<BACKEND>, else RBEE_WORKER_BIN, else llm-worker-rbee on
// the manager's PATH.
func (m *Manager) ResolveBinary(backend string) (string, error) {
	hint := fmt.Sprintf("install %s on PATH, or set RBEE_WORKER_BIN_%s (or RBEE_WORKER_BIN) to the worker executable",
		DefaultBinary, strings.ToUpper(backend))
	for _, key := range []string{"RBEE_WORKER_BIN_" + strings.ToUpper(backend), "RBEE_WORKER_BIN"} {
		v := m.getenv(key)
		if v == "" {
			continue
		}
		if err := checkExecutable(v); err != nil {
			e := newError(CodeWorkerBinaryNotFound, hint, "%s=%s is not usable", key, v)
			e.Err = err
			return "", e
		}
		return v, nil
	}
	for _, dir := range filepath.SplitList(m.getenv("PATH")) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, DefaultBinary)
		if checkExecutable(p) == nil {
			return p, nil
		}
	}
	return "", newError(CodeWorkerBinaryNotFound, hint, "%s not found on PATH", DefaultBinary)
}

func checkExecutable(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	if st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not executable", path)
	}
	return nil
}
