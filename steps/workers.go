package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cucumber/godog"
	"github.com/shirou/gopsutil/v4/process"

	"github.com/rbee-go/rbee/hive"
	"github.com/rbee-go/rbee/hive/catalog"
	"github.com/rbee-go/rbee/worker"
	"github.com/rbee-go/rbee/worker/tinymodel"
)

// registerWorkerSteps: features/cp3_workers.feature (worker spawn, list,
// stop, logs against the real Go worker and a tiny model).
func registerWorkerSteps(sc *godog.ScenarioContext, w *World) {
	sc.After(func(ctx context.Context, _ *godog.Scenario, err error) (context.Context, error) {
		w.killWorkers() // whatever a scenario left, even when it failed
		return ctx, nil
	})
	sc.Step(`^the tiny model "([^"]*)" is registered and downloaded$`, w.tinyModelDownloaded)
	sc.Step(`^the model "([^"]*)" is registered but not downloaded$`, func(id string) error {
		_, err := w.registerModel(id, nil)
		return err
	})
	sc.Step(`^the model "([^"]*)" is registered and downloaded for the backends "([^"]*)"$`, w.modelForBackends)
	sc.Step(`^the model "([^"]*)" is registered and downloaded with (\d+) TiB of weights$`, w.hugeModel)
	sc.Step(`^nvidia-smi reports GPU (\d+) with (\d+) MiB free$`, w.fakeNvidiaSMI)
	sc.Step(`^a free port "([^"]*)"$`, w.freePort)
	sc.Step(`^a busy port "([^"]*)"$`, w.busyPort)
	sc.Step(`^a worker binary that prints (\d+) lines and exits with (\d+)$`, w.crashingWorker)
	sc.Step(`^a worker binary that never becomes ready$`, w.neverReadyWorker)
	sc.Step(`^the JSON at "([^"]*)" is \$\{(\w+)\}$`, w.jsonIsVar)
	sc.Step(`^the JSON at "([^"]*)" is a port above \$\{(\w+)\}$`, w.jsonPortAbove)
	sc.Step(`^the worker "([^"]*)" answers healthy$`, w.workerHealthy)
	sc.Step(`^the worker "([^"]*)" is killed from outside$`, w.killWorker)
	sc.Step(`^the worker list is empty$`, w.workerListEmpty)
	sc.Step(`^no worker process is left$`, func() error { return w.workerProcesses(0) })
	sc.Step(`^(\d+) worker process(?:es)? (?:is|are) running$`, w.workerProcesses)
	sc.Step(`^stdout has (\d+) lines?$`, w.stdoutLines)
	sc.Step(`^stderr shows the last (\d+) of the (\d+) log lines$`, w.stderrLogTail)
	sc.Step(`^stdout is not empty$`, func() error {
		if strings.TrimSpace(w.Stdout) == "" {
			return fmt.Errorf("expected output on stdout\n%s", w.Last())
		}
		return nil
	})
	sc.Step(`^I follow the logs of "([^"]*)" and stop the worker$`, w.followAndStop)
	sc.Step(`^the follow ended when the worker exited$`, w.followEnded)
}

// tinyModelDownloaded generates a tiny model into the home's models/<id>
// and registers it through the catalog API as downloaded (what `models
// download` does after fetching from the hub).
func (w *World) tinyModelDownloaded(id string) error {
	r, ok := tinymodel.Lookup(id)
	if !ok {
		return fmt.Errorf("no tiny model %q", id)
	}
	dir := catalog.ForHome(w.Home).ModelDir(id)
	if err := tinymodel.Generate(dir, r.Arch, tinymodel.DefaultSeed); err != nil {
		return err
	}
	return w.markDownloaded(id, dir, nil)
}

func (w *World) registerModel(id string, backends []catalog.Backend) (catalog.Model, error) {
	return hive.Hive{Home: w.Home}.Register(context.Background(), hive.RegisterRequest{
		ID: id, Name: id, Repo: "rbee-testing/" + id, Architecture: "llama", Backends: backends})
}

// markDownloaded registers id (if needed) and marks it downloaded with the
// files of dir.
func (w *World) markDownloaded(id, dir string, backends []catalog.Backend) error {
	if _, err := w.registerModel(id, backends); err != nil && !errors.Is(err, catalog.ErrModelExists) {
		return err
	}
	var size int64
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			size += info.Size()
		}
	}
	_, err = catalog.ForHome(w.Home).Update(context.Background(), func(c *catalog.Catalog) error {
		m := c.Find(id)
		if m == nil {
			return fmt.Errorf("model %q vanished from the catalog", id)
		}
		m.Downloaded, m.Path, m.SizeBytes = true, dir, size
		return nil
	})
	return err
}

func (w *World) modelForBackends(id, list string) error {
	bs, err := catalog.ParseBackends(list)
	if err != nil {
		return err
	}
	dir := catalog.ForHome(w.Home).ModelDir(id)
	if err := tinymodel.Generate(dir, tinymodel.Llama, tinymodel.DefaultSeed); err != nil {
		return err
	}
	return w.markDownloaded(id, dir, bs)
}

// hugeModel: a sparse weights file, large on paper, nothing on disk.
func (w *World) hugeModel(id string, tib int) error {
	dir := catalog.ForHome(w.Home).ModelDir(id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		return err
	}
	if err := f.Truncate(int64(tib) << 40); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return w.markDownloaded(id, dir, nil)
}

// fakeNvidiaSMI puts an nvidia-smi on the processes' PATH that reports one GPU.
func (w *World) fakeNvidiaSMI(index, freeMiB int) error {
	dir := filepath.Join(w.Dir, "fake-bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	script := fmt.Sprintf("#!/bin/sh\necho '%d, Fake GPU, 24576, %d'\n", index, freeMiB)
	if err := os.WriteFile(filepath.Join(dir, "nvidia-smi"), []byte(script), 0o755); err != nil {
		return err
	}
	w.Env["PATH"] = dir + string(os.PathListSeparator) + w.Bins.PathEnv()
	return nil
}

func (w *World) freePort(name string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	w.Env[name] = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	return nil
}

func (w *World) busyPort(name string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	w.Cleanup(func() { ln.Close() })
	w.Env[name] = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	return nil
}

// workerScript installs a shell script as the worker binary.
func (w *World) workerScript(body string) error {
	p := filepath.Join(w.Dir, "fake-worker")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		return err
	}
	w.Env["RBEE_WORKER_BIN"] = p
	return nil
}

func (w *World) crashingWorker(lines, code int) error {
	return w.workerScript(fmt.Sprintf("i=1\nwhile [ $i -le %d ]; do echo \"boom $i\" >&2; i=$((i+1)); done\nexit %d\n", lines, code))
}

func (w *World) neverReadyWorker() error {
	// It answers --help as every worker does (the hive reads its flags once).
	return w.workerScript("[ \"$1\" = --help ] && exit 0\necho still loading\nexec sleep 600\n")
}

func (w *World) jsonIsVar(path, name string) error {
	want, err := strconv.Atoi(w.Env[name])
	if err != nil {
		return fmt.Errorf("${%s} is not a number: %q", name, w.Env[name])
	}
	return w.jsonNumber(path, want)
}

func (w *World) jsonPortAbove(path, name string) error {
	v, err := w.jsonAt(path)
	if err != nil {
		return err
	}
	busy, _ := strconv.Atoi(w.Env[name])
	if f, ok := v.(float64); !ok || int(f) <= busy {
		return fmt.Errorf("JSON at %q is %v, want a port above %d\n%s", path, v, busy, w.Last())
	}
	return nil
}

// workerRecord reads workers/<id>.json.
func (w *World) workerRecord(id string) (rec struct {
	PID  int    `json:"pid"`
	Port int    `json:"port"`
	URI  string `json:"uri"`
}, err error) {
	data, err := os.ReadFile(filepath.Join(w.Home, "workers", id+".json"))
	if err != nil {
		return rec, fmt.Errorf("worker record of %s: %w", id, err)
	}
	return rec, json.Unmarshal(data, &rec)
}

func (w *World) workerHealthy(id string) error {
	rec, err := w.workerRecord(id)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h, err := worker.NewClient(fmt.Sprintf("http://127.0.0.1:%d", rec.Port)).Health(ctx)
	if err != nil {
		return err
	}
	if h.Status != worker.StatusHealthy {
		return fmt.Errorf("%s: /health says %q", id, h.Status)
	}
	return nil
}

func (w *World) killWorker(id string) error {
	rec, err := w.workerRecord(id)
	if err != nil {
		return err
	}
	if err := syscall.Kill(rec.PID, syscall.SIGKILL); err != nil {
		return fmt.Errorf("killing %s (pid %d): %w", id, rec.PID, err)
	}
	// Orphaned to init, which reaps it; wait until it is really gone.
	deadline := time.Now().Add(5 * time.Second)
	for processRuns(rec.PID) {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s (pid %d) still there after SIGKILL", id, rec.PID)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

func (w *World) workerListEmpty() error {
	if err := w.Run(context.Background(), "rbee-hive worker list --json"); err != nil {
		return err
	}
	if w.ExitCode != 0 || strings.TrimSpace(w.Stdout) != "[]" {
		return fmt.Errorf("expected an empty worker list\n%s", w.Last())
	}
	return nil
}

// scenarioWorkers are the live processes started for this scenario: their
// command line names a path under the scenario's home (the model path).
func (w *World) scenarioWorkers() []*process.Process {
	procs, _ := process.Processes()
	var out []*process.Process
	for _, p := range procs {
		cmd, err := p.Cmdline()
		if err != nil || !strings.Contains(cmd, w.Home+string(os.PathSeparator)) {
			continue
		}
		if st, err := p.Status(); err == nil && len(st) > 0 && st[0] == process.Zombie {
			continue
		}
		out = append(out, p)
	}
	return out
}

func (w *World) workerProcesses(want int) error {
	var got []*process.Process
	// A process being killed may take a moment to disappear.
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got = w.scenarioWorkers()
		if len(got) == want || time.Now().After(deadline) {
			break
		}
	}
	if len(got) != want {
		var desc []string
		for _, p := range got {
			cmd, _ := p.Cmdline()
			desc = append(desc, fmt.Sprintf("pid %d: %s", p.Pid, cmd))
		}
		return fmt.Errorf("expected %d worker process(es), found %d:\n%s", want, len(got), strings.Join(desc, "\n"))
	}
	return nil
}

func (w *World) killWorkers() {
	for _, p := range w.scenarioWorkers() {
		_ = syscall.Kill(-int(p.Pid), syscall.SIGKILL)
		_ = p.Kill()
	}
}

func processRuns(pid int) bool {
	p, err := process.NewProcess(int32(pid))
	if err != nil {
		return false
	}
	st, err := p.Status()
	return err == nil && (len(st) == 0 || st[0] != process.Zombie)
}

// stderrLogTail checks a startup failure printed exactly the last lines of
// the crashing worker's log ("boom 1" … "boom N").
func (w *World) stderrLogTail(n, total int) error {
	for i := 1; i <= total; i++ {
		line := fmt.Sprintf("| boom %d\n", i)
		if shown := strings.Contains(w.Stderr, line); shown != (i > total-n) {
			return fmt.Errorf("log line %q shown=%v, want the last %d of %d lines\n%s", line, shown, n, total, w.Last())
		}
	}
	return nil
}

func (w *World) stdoutLines(n int) error {
	got := strings.Split(strings.TrimSuffix(w.Stdout, "\n"), "\n")
	if w.Stdout == "" {
		got = nil
	}
	if len(got) != n {
		return fmt.Errorf("expected %d line(s) on stdout, got %d\n%s", n, len(got), w.Last())
	}
	return nil
}

// followAndStop runs `worker logs --follow` in the background, stops the
// worker, and records when the follow ended.
func (w *World) followAndStop(id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	w.Cleanup(cancel)
	var out strings.Builder
	cmd := w.Command(ctx, "rbee-hive", "worker", "logs", id, "--follow")
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return fmt.Errorf("logs --follow ended while the worker runs: %v\n%s", err, out.String())
	case <-time.After(500 * time.Millisecond):
	}
	if err := w.Run(context.Background(), "rbee-hive worker stop "+id); err != nil {
		return err
	}
	if w.ExitCode != 0 {
		return fmt.Errorf("stop failed\n%s", w.Last())
	}
	select {
	case err := <-done:
		w.Saved["follow-ended"] = []byte(fmt.Sprint(err))
	case <-time.After(10 * time.Second):
		w.Saved["follow-ended"] = []byte("still running 10s after the worker stopped")
	}
	if out.Len() == 0 {
		return fmt.Errorf("logs --follow printed nothing")
	}
	return nil
}

func (w *World) followEnded() error {
	if got := string(w.Saved["follow-ended"]); got != "<nil>" {
		return fmt.Errorf("logs --follow did not end cleanly: %s", got)
	}
	return nil
}
