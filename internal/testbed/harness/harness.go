// Package harness builds the module's binaries once per test process and
// describes where they are, so features and the matrix run the real programs
// as an operator would.
package harness

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Binary names.
const (
	Hive      = "rbee-hive"
	Keeper    = "rbee-keeper"
	Worker    = "llm-worker-rbee"
	TinyModel = "rbee-tinymodel"
	// RustSeed is the stand-in for the seed-era Rust worker; it is also
	// installed under the Rust binaries' names in RustSeedDir.
	RustSeed = "rust-seed-worker"
)

// Commands are the main packages built, by binary name. Those not present in
// the checkout yet are skipped (Has reports which were built).
func Commands() map[string]string {
	return map[string]string{
		Hive:      "./hive/cmd/rbee-hive",
		Keeper:    "./keeper/cmd/rbee-keeper",
		Worker:    "./worker/cmd/llm-worker-rbee",
		TinyModel: "./worker/cmd/rbee-tinymodel",
		RustSeed:  "./internal/testbed/rustworker/cmd/rust-seed-worker",
	}
}

// Bins is a directory of freshly built binaries.
type Bins struct {
	Dir   string
	Built map[string]bool
	Root  string // the module root they were built from
}

// Path is the absolute path of a built binary.
func (b *Bins) Path(name string) string { return filepath.Join(b.Dir, name) }

// RustSeedDir holds the stand-in under the three Rust binary names
// (llm-worker-rbee, -cuda, -metal). It is a directory of its own so its
// llm-worker-rbee never shadows the Go worker's on PATH.
func (b *Bins) RustSeedDir() string { return filepath.Join(b.Dir, "rust-seed") }

// Has reports whether name was built.
func (b *Bins) Has(name string) bool { return b.Built[name] }

// PathEnv is a PATH value with the binaries first.
func (b *Bins) PathEnv() string {
	return b.Dir + string(os.PathListSeparator) + os.Getenv("PATH")
}

// built caches the one build of this test process; it is set once and then
// only read, which is why a package-level value is acceptable here.
var built = sync.OnceValues(build)

// Build builds the binaries (once per process) and returns where they are.
func Build() (*Bins, error) { return built() }

// dirPrefix names the binary directories; the building process's pid follows
// so a later run can tell which ones are left over.
const dirPrefix = "rbee-bin-"

func build() (*Bins, error) {
	root, err := ModuleRoot()
	if err != nil {
		return nil, err
	}
	sweepStale()
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", dirPrefix, os.Getpid()))
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	// Readable by every user: some features run the hive as another user.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	b := &Bins{Dir: dir, Built: map[string]bool{}, Root: root}
	args := []string{"build", "-o", dir + string(os.PathSeparator)}
	for name, pkg := range Commands() {
		if hasMain(filepath.Join(root, pkg)) {
			args = append(args, pkg)
			b.Built[name] = true
		}
	}
	if !b.Built[Hive] || !b.Built[Keeper] {
		return nil, fmt.Errorf("harness: %s and %s must exist in %s", Hive, Keeper, root)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("go", args...)
	cmd.Dir, cmd.Stderr = root, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("harness: go %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if b.Built[RustSeed] {
		if err := installRustSeed(b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// hasMain reports whether dir holds a main package (a non-test .go file).
func hasMain(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		n := e.Name()
		if strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			src, err := os.ReadFile(filepath.Join(dir, n))
			if err == nil && bytes.Contains(src, []byte("package main")) {
				return true
			}
		}
	}
	return false
}

// ModuleRoot walks up from the working directory to the go.mod of the module.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("harness: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// sweepStale removes binary directories of test processes that have exited
// (a test binary has no exit hook to remove its own).
func sweepStale() {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, m := range matches {
		pidText, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(m), dirPrefix), "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(m)
		}
	}
}

// rustSeedNames are the seed-era Rust worker's binaries.
var rustSeedNames = []string{"llm-worker-rbee", "llm-worker-rbee-cuda", "llm-worker-rbee-metal"}

// installRustSeed links the stand-in under the Rust binaries' names.
func installRustSeed(b *Bins) error {
	if err := os.MkdirAll(b.RustSeedDir(), 0o755); err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	for _, n := range rustSeedNames {
		if err := os.Link(b.Path(RustSeed), filepath.Join(b.RustSeedDir(), n)); err != nil {
			return fmt.Errorf("harness: installing the Rust worker stand-in as %s: %w", n, err)
		}
	}
	return nil
}
