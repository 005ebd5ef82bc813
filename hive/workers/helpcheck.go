package workers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"
)

// CodeBackendBinaryMismatch: a cuda/metal profile points at a binary that
// is not a build for that backend (the Rust main binary runs on the CPU
// whatever it is told, so a "cuda" run of it would measure the CPU).
const CodeBackendBinaryMismatch Code = "BACKEND_BINARY_MISMATCH"

// helpTimeout bounds `<bin> --help`.
const helpTimeout = 10 * time.Second

// HelpFlags is what a worker binary's --help lists.
type HelpFlags struct {
	Flags    []string `json:"flags"`    // every flag named, "--worker-id"
	Required []string `json:"required"` // those it marks required
}

var (
	flagRE    = regexp.MustCompile(`(?:^|[\s,\[|(])(--?[A-Za-z][A-Za-z0-9_-]*)`)
	bracketRE = regexp.MustCompile(`\[[^\]]*\]`)
)

// ParseHelp reads the flags of a help text: clap's ("Usage: bin [OPTIONS]
// --worker-id <WORKER_ID> …" names the required ones outside brackets),
// pflag's and Go flag's ("-mode string"; "(required)" in a description).
func ParseHelp(text string) HelpFlags {
	h := HelpFlags{Flags: []string{}, Required: []string{}}
	add := func(list *[]string, f string) {
		f = "--" + strings.TrimLeft(f, "-")
		if !slices.Contains(*list, f) {
			*list = append(*list, f)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		for _, m := range flagRE.FindAllStringSubmatch(line, -1) {
			add(&h.Flags, m[1])
		}
		if _, usage, ok := strings.Cut(line, "Usage:"); ok {
			for _, m := range flagRE.FindAllStringSubmatch(bracketRE.ReplaceAllString(usage, " "), -1) {
				add(&h.Required, m[1])
			}
		} else if strings.Contains(line, "(required)") {
			if m := flagRE.FindStringSubmatch(line); m != nil {
				add(&h.Required, m[1])
			}
		}
	}
	// -h/--help and -V/--version are not worker flags a template could need.
	h.Required = slices.DeleteFunc(h.Required, func(f string) bool { return f == "--help" || f == "--version" })
	return h
}

// templateFlags are the flags a template passes ("--port={port}" → "--port").
func templateFlags(args []string) []string {
	var out []string
	for _, a := range args {
		if m := flagRE.FindStringSubmatch(a); m != nil && strings.HasPrefix(a, "-") {
			name, _, _ := strings.Cut(m[1], "=")
			out = append(out, "--"+strings.TrimLeft(name, "-"))
		}
	}
	return out
}

// checkTemplate runs `<bin> --help` (cached) and refuses a template the
// binary cannot take, and a GPU profile whose binary is not a GPU build.
func (m *Manager) checkTemplate(ctx context.Context, p Profile) error {
	h, err := m.helpFlags(ctx, p)
	if err != nil {
		return err
	}
	hint := func() string {
		return "`" + p.Path + " --help` lists " + strings.Join(h.Flags, " ") + "; set args in [backends." + p.Backend +
			"] of " + filepath.Join(m.Home, ArgsFile) + " (or a profile: " + strings.Join(Presets(), ", ") + ")"
	}
	if dev := DeviceFlag(p.Backend); dev != "" && !slices.Contains(h.Flags, dev) {
		return newError(CodeBackendBinaryMismatch,
			"point bin of [backends."+p.Backend+"] at "+RustBinary(p.Backend)+" (cargo build --release --features "+p.Backend+")",
			"%s is not a %s build: its --help lists no %s (the main %s runs on the CPU whatever it is told)",
			p.Path, p.Backend, dev, DefaultBinary)
	}
	if len(h.Flags) == 0 {
		m.log().Warn("worker --help lists no flags; template not checked", "bin", p.Path)
		return nil
	}
	used := templateFlags(p.Args)
	for _, f := range used {
		if !slices.Contains(h.Flags, f) {
			return newError(CodeWorkerArgsInvalid, hint(),
				"worker argument template from %s uses %s, which `%s --help` does not list", p.Sources["args"], f, filepath.Base(p.Path))
		}
	}
	for _, f := range h.Required {
		if !slices.Contains(used, f) {
			return newError(CodeWorkerArgsInvalid, hint(),
				"worker argument template from %s omits %s, which `%s --help` marks required", p.Sources["args"], f, filepath.Base(p.Path))
		}
	}
	return nil
}

// helpCache is one cached --help reading, valid while the binary's path,
// size and mtime are the same.
type helpCache struct {
	Path  string    `json:"path"`
	Size  int64     `json:"size"`
	MTime time.Time `json:"mtime"`
	Help  HelpFlags `json:"help"`
}

func (m *Manager) helpFlags(ctx context.Context, p Profile) (HelpFlags, error) {
	st, err := os.Stat(p.Path)
	if err != nil {
		return HelpFlags{}, newError(CodeWorkerBinaryNotFound, "", "%s: %v", p.Path, err)
	}
	sum := sha256.Sum256([]byte(p.Path))
	cachePath := filepath.Join(m.dir(), "help-cache", hex.EncodeToString(sum[:8])+".json")
	if raw, err := os.ReadFile(cachePath); err == nil {
		var c helpCache
		if json.Unmarshal(raw, &c) == nil && c.Path == p.Path && c.Size == st.Size() && c.MTime.Equal(st.ModTime()) {
			return c.Help, nil
		}
	}
	text, err := m.runHelp(ctx, p)
	if err != nil {
		return HelpFlags{}, err
	}
	h := ParseHelp(text)
	c := helpCache{Path: p.Path, Size: st.Size(), MTime: st.ModTime(), Help: h}
	if raw, err := json.Marshal(c); err == nil && os.MkdirAll(filepath.Dir(cachePath), 0o755) == nil {
		tmp := cachePath + ".tmp"
		if os.WriteFile(tmp, raw, 0o644) == nil {
			_ = os.Rename(tmp, cachePath) // a cache: a failed write only costs a rerun
		}
	}
	return h, nil
}

// runHelp runs `<bin> --help` with the worker's environment; clap exits 0,
// Go's flag package 2, both print the flags.
func (m *Manager) runHelp(ctx context.Context, p Profile) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, helpTimeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, p.Path, "--help")
	cmd.Env, cmd.Dir = m.workerEnv(p), m.Home
	cmd.Stdout, cmd.Stderr = &out, &out
	detach(cmd)
	cmd.Cancel = func() error { return signalGroup(cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) || ctx.Err() != nil {
		e := newError(CodeWorkerStartupFailed, "check the worker binary "+p.Path,
			"`%s --help` failed (it is run once to check the argument template)", p.Path)
		e.Err = errors.Join(err, ctx.Err())
		return "", e
	}
	return out.String(), nil
}
