package steps

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cucumber/godog"

	"github.com/rbee-go/rbee/hive/catalog"
	"github.com/rbee-go/rbee/hive/hfhub"
	"github.com/rbee-go/rbee/hive/hubmirror"
	"github.com/rbee-go/rbee/worker/tinymodel"
)

// downloads is the download features' state: one in-process hub mirror per
// scenario (HF_ENDPOINT of the processes points at it) and a command running
// in the background.
type downloads struct {
	w      *World
	srv    *hubmirror.Server
	repo   string // the repo the last mirror step created
	bg     background
	faults map[string]hubmirror.Faults // knobs per mirror target, combined
}

// registerDownloadSteps: the hub mirror, its fault knobs, and checks of
// downloaded files and the catalog (features/cp3_downloads.feature).
func registerDownloadSteps(sc *godog.ScenarioContext, w *World) {
	d := &downloads{w: w, faults: map[string]hubmirror.Faults{}}
	sc.Step(`^a hub mirror serving "([^"]*)" with a (\d+) MiB weights file$`, d.serveRepo)
	sc.Step(`^the hub mirror also serves the tiny model "([^"]*)"$`, d.serveTiny)
	sc.Step(`^the hub mirror also serves "([^"]*)" with a (\d+) PiB weights file it has only a git-lfs pointer for$`, d.servePointerRepo)
	sc.Step(`^the hub mirror requires the token "([^"]*)"$`, func(tok string) error { return d.mirror(func(s *hubmirror.Server) { s.SetToken(tok) }) })
	sc.Step(`^the hub mirror cuts the connection for "([^"]*)" at (\d+)% once$`, d.cutAt)
	sc.Step(`^the hub mirror ignores Range requests for "([^"]*)"$`, d.ignoreRange)
	sc.Step(`^the hub mirror corrupts byte (\d+) of "([^"]*)" once$`, d.corrupt)
	sc.Step(`^the hub mirror stalls "([^"]*)" for (\d+(?:\.\d+)?) seconds after (\d+) KiB once$`, d.stall)
	sc.Step(`^the hub mirror stalls "([^"]*)" after (\d+) KiB until the scenario ends$`, func(f string, kib int) error { return d.stall(f, 3600, kib) })
	sc.Step(`^the hub mirror answers (\d+) to the first (\d+) requests$`, d.failFirst)
	sc.Step(`^the hub mirror behaves again$`, func() error {
		d.faults = map[string]hubmirror.Faults{}
		return d.mirror(func(s *hubmirror.Server) { s.ClearFaults() })
	})
	sc.Step(`^the hub mirror's byte counters are reset$`, func() error { return d.mirror(func(s *hubmirror.Server) { s.ResetStats() }) })
	sc.Step(`^the hub mirror sent less than (\d+(?:\.\d+)?) times the size of "([^"]*)"$`, d.sentLessThan)
	sc.Step(`^the hub mirror sent at least (\d+(?:\.\d+)?) times the size of "([^"]*)"$`, d.sentAtLeast)
	sc.Step(`^the hub mirror sent no file bytes$`, d.sentNothing)
	sc.Step(`^a Hugging Face token file containing "([^"]*)"$`, d.tokenFile)
	sc.Step(`^the files of "([^"]*)" match the hub$`, d.filesMatch)
	sc.Step(`^the catalog marks "([^"]*)" downloaded with its files, sizes, sha256 and commit$`, d.catalogDownloaded)
	sc.Step(`^the catalog does not mark "([^"]*)" downloaded$`, d.catalogNotDownloaded)
	sc.Step(`^"([^"]*)" under the home holds (\d+)% of "([^"]*)"$`, d.partialHolds)
	sc.Step(`^"([^"]*)" does not exist under the home$`, d.absentUnderHome)
	sc.Step(`^the download JSON says already_downloaded is (true|false)$`, d.jsonAlready)
	sc.Step(`^"rbee-hive hub serve" serves the hub folder(?: with the token "([^"]*)")?(?: and the flags "([^"]*)")?$`, d.hubServe)
	registerRealHubSteps(sc, d)
	sc.Step(`^I start the download "(.*)" in the background$`, d.start)
	sc.Step(`^"([^"]*)" under the home grows to (\d+)% of "([^"]*)"$`, d.waitGrows)
	sc.Step(`^I interrupt the background command$`, d.interrupt)
}

func (d *downloads) mirror(fn func(*hubmirror.Server)) error {
	if d.srv == nil {
		return errors.New("no hub mirror in this scenario: start with 'a hub mirror serving ...'")
	}
	fn(d.srv)
	return nil
}

// start serves <scenario>/hub and points HF_ENDPOINT at it.
func (d *downloads) startMirror() error {
	if d.srv != nil {
		return nil
	}
	srv, err := hubmirror.Start(filepath.Join(d.w.Dir, "hub"))
	if err != nil {
		return err
	}
	d.srv = srv
	d.w.Env["HF_ENDPOINT"] = srv.URL
	d.w.Cleanup(func() {
		srv.Close()
		d.bg.kill()
	})
	return nil
}

// serveRepo writes an HF-style repo: random weights (deterministic), config,
// tokenizer and a README that the default include set leaves out.
func (d *downloads) serveRepo(repo string, mib int) error {
	dir := filepath.Join(d.w.Dir, "hub", filepath.FromSlash(repo))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	weights := make([]byte, mib<<20)
	r := rand.NewChaCha8([32]byte{'r', 'b', 'e', 'e'})
	_, _ = r.Read(weights)
	files := map[string][]byte{
		"model.safetensors": weights,
		"config.json":       []byte(`{"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "num_hidden_layers": 2}`),
		"tokenizer.json":    []byte(`{"version": "1.0", "model": {"type": "BPE", "vocab": {}, "merges": []}}`),
		"README.md":         []byte("# " + repo + "\n"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	d.repo = repo
	return d.startMirror()
}

// serveTiny adds a generated tiny model repo (worker/tinymodel): real config,
// tokenizer and safetensors layout, random weights.
func (d *downloads) serveTiny(name string) error {
	r, ok := tinymodel.Lookup(name)
	if !ok {
		return fmt.Errorf("no tiny model %q", name)
	}
	if err := tinymodel.Generate(filepath.Join(d.w.Dir, "hub", filepath.FromSlash(r.Repo)), r.Arch, tinymodel.DefaultSeed); err != nil {
		return err
	}
	d.repo = r.Repo
	return d.startMirror()
}

// servePointerRepo adds a repo whose weights exist only as a git-lfs pointer
// (as in a clone made with GIT_LFS_SKIP_SMUDGE=1): the hub lists the real
// size, so the pool's real free space is checked against it.
func (d *downloads) servePointerRepo(repo string, pib int) error {
	dir := filepath.Join(d.w.Dir, "hub", filepath.FromSlash(repo))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := hubmirror.WritePointer(filepath.Join(dir, "model.safetensors"), strings.Repeat("5e", 32), int64(pib)<<50); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{}`), 0o644); err != nil {
		return err
	}
	return d.startMirror()
}

// target is the mirror's name of a file of the current repo.
func (d *downloads) target(file string) string { return d.repo + "/" + file }

func (d *downloads) size(file string) (int64, error) {
	st, err := os.Stat(filepath.Join(d.w.Dir, "hub", filepath.FromSlash(d.repo), file))
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// knob changes the faults of a target, keeping its other knobs.
func (d *downloads) knob(target string, set func(f *hubmirror.Faults)) error {
	f := d.faults[target]
	set(&f)
	d.faults[target] = f
	return d.mirror(func(s *hubmirror.Server) { s.SetFaults(target, f) })
}

func (d *downloads) cutAt(file string, pct int) error {
	size, err := d.size(file)
	if err != nil {
		return err
	}
	return d.knob(d.target(file), func(f *hubmirror.Faults) { f.CutAfter, f.CutTimes = size*int64(pct)/100, 1 })
}

func (d *downloads) ignoreRange(file string) error {
	return d.knob(d.target(file), func(f *hubmirror.Faults) { f.IgnoreRange = true })
}

func (d *downloads) corrupt(at int, file string) error {
	return d.knob(d.target(file), func(f *hubmirror.Faults) { f.Corrupt, f.CorruptAt, f.CorruptTimes = true, int64(at), 1 })
}

func (d *downloads) stall(file string, secs float64, kib int) error {
	return d.knob(d.target(file), func(f *hubmirror.Faults) {
		f.StallAfter, f.StallFor, f.StallTimes = int64(kib)<<10, time.Duration(secs*float64(time.Second)), 1
	})
}

func (d *downloads) failFirst(status, n int) error {
	return d.knob("", func(f *hubmirror.Faults) { f.FailFirst, f.FailStatus = n, status })
}

func (d *downloads) sentAtLeast(factor float64, file string) error {
	size, err := d.size(file)
	if err != nil {
		return err
	}
	if sent := d.srv.BytesServed(d.target(file)); float64(sent) < factor*float64(size) {
		return fmt.Errorf("the mirror sent %d bytes of %s (size %d): %.4f× < %.2f×\n%s", sent, file, size, float64(sent)/float64(size), factor, d.w.Last())
	}
	return nil
}

func (d *downloads) sentLessThan(factor float64, file string) error {
	size, err := d.size(file)
	if err != nil {
		return err
	}
	if sent := d.srv.BytesServed(d.target(file)); float64(sent) >= factor*float64(size) {
		return fmt.Errorf("the mirror sent %d bytes of %s (size %d): %.4f× ≥ %.2f×\n%s", sent, file, size, float64(sent)/float64(size), factor, d.w.Last())
	}
	return nil
}

func (d *downloads) sentNothing() error {
	if n := d.srv.BytesServed(""); n != 0 {
		return fmt.Errorf("the mirror sent %d file bytes, want none\n%s", n, d.w.Last())
	}
	return nil
}

// tokenFile writes the token where huggingface_hub keeps it (~/.cache/huggingface/token).
func (d *downloads) tokenFile(tok string) error {
	p := filepath.Join(d.w.UserHome, ".cache", "huggingface", "token")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(tok+"\n"), 0o600)
}

// hubFiles are the current repo's files the default set selects (the test
// repos' safetensors files are all shards the index names, when it has one).
func (d *downloads) hubFiles() (map[string][]byte, error) {
	dir := filepath.Join(d.w.Dir, "hub", filepath.FromSlash(d.repo))
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, e := range entries {
		if e.Type().IsRegular() && hfhub.InDefaultSet(e.Name(), nil) {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				return nil, err
			}
			out[e.Name()] = b
		}
	}
	return out, nil
}

func (d *downloads) filesMatch(id string) error {
	want, err := d.hubFiles()
	if err != nil {
		return err
	}
	for name, b := range want {
		got, err := os.ReadFile(filepath.Join(d.w.Home, "models", id, name))
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", name, err, d.w.Last())
		}
		if !bytes.Equal(got, b) {
			return fmt.Errorf("models/%s/%s differs from the hub's file\n%s", id, name, d.w.Last())
		}
	}
	return nil
}

func (d *downloads) model(id string) (*catalog.Model, error) {
	c, err := catalog.ForHome(d.w.Home).Load(context.Background())
	if err != nil {
		return nil, err
	}
	m := c.Find(id)
	if m == nil {
		return nil, fmt.Errorf("model %q is not in the catalog", id)
	}
	return m, nil
}

func (d *downloads) catalogDownloaded(id string) error {
	m, err := d.model(id)
	if err != nil {
		return err
	}
	want, err := d.hubFiles()
	if err != nil {
		return err
	}
	repo, err := d.srv.Repo(d.repo)
	if err != nil {
		return err
	}
	var problems []string
	if !m.Downloaded {
		problems = append(problems, "downloaded is false")
	}
	if m.Metadata.Commit != repo.Commit {
		problems = append(problems, fmt.Sprintf("commit %q, the hub's is %q", m.Metadata.Commit, repo.Commit))
	}
	if dir, _ := filepath.Abs(filepath.Join(d.w.Home, "models", id)); m.Path != dir {
		problems = append(problems, fmt.Sprintf("path %q, want %q", m.Path, dir))
	}
	var total int64
	for _, f := range m.Metadata.Files {
		b, ok := want[f.Name]
		sum := sha256.Sum256(b)
		switch {
		case !ok:
			problems = append(problems, "unexpected file "+f.Name)
		case f.Size != int64(len(b)) || f.SHA256 != hex.EncodeToString(sum[:]):
			problems = append(problems, fmt.Sprintf("file %s: size %d sha256 %s, the hub's: %d %x", f.Name, f.Size, f.SHA256, len(b), sum))
		}
		total += f.Size
	}
	if len(m.Metadata.Files) != len(want) {
		problems = append(problems, fmt.Sprintf("%d files listed, the hub has %d included", len(m.Metadata.Files), len(want)))
	}
	if m.SizeBytes != total {
		problems = append(problems, fmt.Sprintf("size_bytes %d, files sum to %d", m.SizeBytes, total))
	}
	if len(problems) > 0 {
		return fmt.Errorf("catalog entry %q: %s\n%s", id, strings.Join(problems, "; "), d.w.Last())
	}
	return nil
}

func (d *downloads) catalogNotDownloaded(id string) error {
	m, err := d.model(id)
	if err != nil {
		return err
	}
	if m.Downloaded || len(m.Metadata.Files) > 0 {
		return fmt.Errorf("catalog entry %q says downloaded=%v with %d files\n%s", id, m.Downloaded, len(m.Metadata.Files), d.w.Last())
	}
	return nil
}

func (d *downloads) partialHolds(rel string, pct int, file string) error {
	size, err := d.size(file)
	if err != nil {
		return err
	}
	st, err := os.Stat(filepath.Join(d.w.Home, rel))
	if err != nil {
		return fmt.Errorf("%w\n%s", err, d.w.Last())
	}
	if want := size * int64(pct) / 100; st.Size() != want {
		return fmt.Errorf("%s holds %d bytes, want %d\n%s", rel, st.Size(), want, d.w.Last())
	}
	return nil
}

func (d *downloads) absentUnderHome(rel string) error {
	if _, err := os.Stat(filepath.Join(d.w.Home, rel)); !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s exists under the home (err %v)\n%s", rel, err, d.w.Last())
	}
	return nil
}

func (d *downloads) jsonAlready(want string) error {
	var v struct {
		Already *bool `json:"already_downloaded"`
	}
	if err := json.Unmarshal([]byte(d.w.Stdout), &v); err != nil || v.Already == nil {
		return fmt.Errorf("stdout is not the download JSON (%v)\n%s", err, d.w.Last())
	}
	if fmt.Sprint(*v.Already) != want {
		return fmt.Errorf("already_downloaded is %v, want %s\n%s", *v.Already, want, d.w.Last())
	}
	return nil
}

// hubServe runs the real `rbee-hive hub serve` on the scenario's hub folder
// (a free loopback port) and points HF_ENDPOINT at the URL it prints.
func (d *downloads) hubServe(token, flags string) error {
	args := []string{"hub", "serve", filepath.Join(d.w.Dir, "hub"), "--addr", "127.0.0.1:0"}
	if token != "" {
		args = append(args, "--token", token)
	}
	args = append(args, strings.Fields(flags)...)
	cmd := d.w.Command(context.Background(), "rbee-hive", args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	d.w.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "use it with: export HF_ENDPOINT="); ok {
				found <- u
			}
		}
	}()
	select {
	case u := <-found:
		d.w.Env["HF_ENDPOINT"] = u
		return nil
	case err := <-done:
		return fmt.Errorf("rbee-hive hub serve exited (%v)\nstderr:\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		return fmt.Errorf("rbee-hive hub serve printed no HF_ENDPOINT in 30s\nstderr:\n%s", stderr.String())
	}
}

// start runs a command line in the background (an operator's long download).
func (d *downloads) start(cmdline string) error { return d.bg.start(d.w, cmdline) }

func (d *downloads) waitGrows(rel string, pct int, file string) error {
	size, err := d.size(file)
	if err != nil {
		return err
	}
	want := size * int64(pct) / 100
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if st, err := os.Stat(filepath.Join(d.w.Home, rel)); err == nil && st.Size() >= want {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s did not reach %d bytes in 30s", rel, want)
}

// interrupt sends SIGINT (Ctrl-C) and records the command's outcome like Run.
func (d *downloads) interrupt() error {
	cmd, err := d.bg.running()
	if err != nil {
		return err
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		return err
	}
	ended, err := d.bg.wait(d.w, 15*time.Second)
	if !ended {
		return fmt.Errorf("%q did not exit within 15s of SIGINT", d.bg.line)
	}
	return err
}
