package workers

import (
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// profileFile is the shape of worker-args.toml:
//
//	args = [...]                # legacy: the template of every backend
//	[backends.cuda]
//	profile = "rust-seed"
//	bin = "/opt/rbee/llm-worker-rbee-cuda"
//	args = ["--worker-id", "{id}", ...]
//	env = { LLORCH_LOG_FORMAT = "json" }
//	memory_factor = 2.4
type profileFile struct {
	Args     []string                `toml:"args"`
	Backends map[string]backendTable `toml:"backends"`
}

// backendTable keeps env and memory_factor loosely typed so a wrong type is
// reported with the key's name rather than a decoder message.
type backendTable struct {
	Profile      string         `toml:"profile"`
	Bin          string         `toml:"bin"`
	Args         []string       `toml:"args"`
	Env          map[string]any `toml:"env"`
	MemoryFactor any            `toml:"memory_factor"`
}

// profileError is a bad worker-args.toml: one line naming the file and key.
func profileError(path, key, format string, args ...any) *Error {
	return newError(CodeWorkerArgsInvalid, "fix or remove "+key+" in "+path+" (DESIGN §5 \"Worker profiles\")",
		"%s: %s: %s", path, key, fmt.Sprintf(format, args...))
}

func parseProfileFile(path string) (*profileFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f profileFile
	md, err := toml.Decode(string(raw), &f)
	if err != nil {
		e := newError(CodeWorkerArgsInvalid, "fix or remove "+path, "%s: %s", path, oneLine(err.Error()))
		e.Err = err
		return nil, e
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, profileError(path, und[0].String(), "unknown key (keys: args, [backends.<backend>] profile, bin, args, env, memory_factor)")
	}
	for _, b := range slices.Sorted(maps.Keys(f.Backends)) {
		if !slices.Contains([]string{BackendCPU, BackendMetal, BackendCUDA}, b) {
			return nil, profileError(path, "backends."+b, "unknown backend (cpu, metal, cuda)")
		}
	}
	if err := checkPlaceholders(f.Args, path+" args"); err != nil {
		return nil, err
	}
	return &f, nil
}

// apply lays the file's values for p.Backend over p.
func (f *profileFile) apply(p *Profile, path string) error {
	if len(f.Args) > 0 {
		p.Args, p.Sources["args"] = f.Args, path+" args"
	}
	t, ok := f.Backends[p.Backend]
	if !ok {
		return nil
	}
	key := func(k string) string { return "backends." + p.Backend + "." + k }
	src := func(k string) string { return path + " " + key(k) }
	if t.Profile != "" {
		base, ok := preset(t.Profile, p.Backend)
		if !ok {
			return profileError(path, key("profile"), "unknown preset %q (presets: %s)", t.Profile, strings.Join(Presets(), ", "))
		}
		if len(f.Args) > 0 { // the legacy top-level template still applies
			base.Args, base.Sources["args"] = f.Args, path+" args"
		}
		base.Sources["profile"] = src("profile")
		*p = base
	}
	if t.Bin != "" {
		p.Bin, p.Sources["bin"] = t.Bin, src("bin")
		if strings.ContainsRune(t.Bin, '/') {
			if err := checkExecutable(t.Bin); err != nil {
				return profileError(path, key("bin"), "%v", err)
			}
		}
	}
	if len(t.Args) > 0 {
		p.Args, p.Sources["args"] = t.Args, src("args")
	}
	if t.Env != nil {
		env := map[string]string{}
		for k, v := range t.Env {
			s, ok := v.(string)
			if !ok {
				return profileError(path, key("env")+"."+k, "value %v is a %T, not a string (quote it)", v, v)
			}
			env[k] = s
		}
		p.Env, p.Sources["env"] = env, src("env")
	}
	if t.MemoryFactor != nil {
		var mf float64
		switch v := t.MemoryFactor.(type) {
		case float64:
			mf = v
		case int64:
			mf = float64(v)
		default:
			return profileError(path, key("memory_factor"), "%v is a %T, not a number", v, v)
		}
		if mf <= 0 {
			return profileError(path, key("memory_factor"), "%v must be more than 0", mf)
		}
		p.MemoryFactor, p.Sources["memory_factor"] = mf, src("memory_factor")
	}
	return nil
}

var placeholderRE = regexp.MustCompile(`\{([a-z_]*)\}`)

// isPlaceholder says whether {name} may appear in a template.
func isPlaceholder(name string) bool {
	switch name {
	case "id", "model", "model_id", "port", "callback", "backend", "gpu":
		return true
	}
	return false
}

// checkPlaceholders refuses a template with an unknown {placeholder}
// before any process starts.
func checkPlaceholders(tmpl []string, source string) error {
	for _, a := range tmpl {
		for _, m := range placeholderRE.FindAllStringSubmatch(a, -1) {
			if !isPlaceholder(m[1]) {
				return newError(CodeWorkerArgsInvalid,
					"placeholders: {id} {model} {model_id} {port} {callback} {backend} {gpu}",
					"unknown placeholder %s in worker argument template from %s", m[0], source)
			}
		}
	}
	return nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
