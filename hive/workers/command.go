package workers

import (
	"fmt"
	"os"
	"strconv"
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

// ArgsFile holds the worker profiles of a home (DESIGN §5), e.g.
//
//	args = ["--worker-id", "{id}", "--model", "{model}", "--port", "{port}"]
//	[backends.cuda]
//	profile = "rust-seed"
//	bin = "/opt/rbee/llm-worker-rbee-cuda"
const ArgsFile = "worker-args.toml"

// ArgsTemplate returns the argument template of backend's profile and where
// it came from (see Profile for the order).
func (m *Manager) ArgsTemplate(backend string) (args []string, source string, err error) {
	p, err := m.profile(backend)
	if err != nil {
		return nil, "", err
	}
	return p.Args, p.Sources["args"], nil
}

// renderArgs substitutes placeholders (checkPlaceholders has refused
// unknown ones when the profile was resolved).
func renderArgs(tmpl []string, vals map[string]string) []string {
	out := make([]string, len(tmpl))
	for i, a := range tmpl {
		out[i] = placeholderRE.ReplaceAllStringFunc(a, func(p string) string { return vals[p[1:len(p)-1]] })
	}
	return out
}

// templateValues are the placeholder values for one spawn.
func templateValues(id string, mdl Model, port int, callback, backend string, gpu int) map[string]string {
	return map[string]string{
		"id": id, "model": mdl.Path, "model_id": mdl.ID, "port": strconv.Itoa(port),
		"callback": callback, "backend": backend, "gpu": strconv.Itoa(gpu),
	}
}

// ResolveBinary finds the worker executable of backend's profile:
// RBEE_WORKER_BIN_<BACKEND>, else RBEE_WORKER_BIN, else the profile's bin
// (a path, or a name on the manager's PATH).
func (m *Manager) ResolveBinary(backend string) (string, error) {
	p, err := m.Profile(backend)
	return p.Path, err
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
