package steps

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/cucumber/godog"
	"github.com/shirou/gopsutil/v4/process"

	"github.com/rbee-go/rbee/hive/hubmirror"
	"github.com/rbee-go/rbee/internal/testbed/tmpfs"
	"github.com/rbee-go/rbee/keeper/matrix"
)

// faultRun is the chaos feature's state (features/cp4_faults.feature): a
// matrix on one harness pool, faults armed on file-system triggers (the
// pool's home is on this machine), then a -resume rerun in the same
// directories.
type faultRun struct {
	w         *World
	pools     []string
	models    string
	workDir   string
	home      string // the pool's RBEE_HOME
	filler    string // the file that fills the pool's disk
	stallFor  time.Duration
	lastStall time.Time

	runner     *matrix.Runner
	run        matrix.Run
	first      matrix.Run               // the run before -resume
	faults     []func(r *matrix.Runner) // armed once the runner (its mirror) exists
	errs       chan error               // a fault that could not be applied
	present    map[string]int64         // model/file -> bytes on the pool before the resume
	restoredAt time.Time                // when the cut pool's network came back
}

// faultStall is how long the mirror pauses mid-file so a fault lands
// mid-download.
const faultStall = 2 * time.Second

func registerFaultSteps(sc *godog.ScenarioContext, w *World) {
	f := &faultRun{w: w, errs: make(chan error, 8)}
	sc.Step(`^the fault matrix on pool "([^"]*)" with models "([^"]*)" and its home on a (\d+) MiB disk$`, f.setUp)
	sc.Step(`^the pool's network is cut for (\d+) seconds once the worker of "([^"]*)" is up$`, f.cutOnWorker)
	sc.Step(`^the pool's hive is killed mid-download of "([^"]*)"$`, f.killHiveMidDownload)
	sc.Step(`^the worker of "([^"]*)" is killed as its first job starts$`, f.killWorkerOnJob)
	sc.Step(`^the pool's disk fills up mid-download of "([^"]*)"$`, f.fillDiskMidDownload)
	sc.Step(`^the fault matrix runs$`, func(ctx context.Context) error { return f.runMatrix(ctx, false) })
	sc.Step(`^the disk has room again and the fault matrix runs with -resume$`, f.resume)
	sc.Step(`^cell "([^"]*)" passed after an SSH redial$`, f.passedAfterRedial)
	sc.Step(`^cell "([^"]*)" failed with "([^"]*)"$`, f.failedWith)
	sc.Step(`^no worker process or record is left on the pool$`, f.noWorkerLeft)
	sc.Step(`^no model is marked downloaded whose files are not complete$`, f.noFalseDownload)
	sc.Step(`^every fault cell passes$`, f.allPass)
	sc.Step(`^-resume re-ran exactly the cells that had not passed$`, f.rerunExactly)
	sc.Step(`^the resumed run fetched only the missing bytes$`, f.fetchedOnlyMissing)
}

func (f *faultRun) setUp(pool, models string, mib int) error {
	f.pools, f.models = []string{pool}, models
	f.workDir = filepath.Join(f.w.Dir, "matrix")
	name, _, _ := strings.Cut(pool, ":")
	f.home = filepath.Join(f.workDir, name, "home")
	if err := os.MkdirAll(f.home, 0o755); err != nil {
		return err
	}
	unmount, err := tmpfs.MountDir(f.home, int64(mib)<<20)
	if err != nil {
		return err
	}
	f.w.Cleanup(func() { _ = unmount() })
	f.filler = filepath.Join(f.home, "filler")
	return nil
}

// watch polls cond in the background and runs act once it holds.
func (f *faultRun) watch(what string, cond func() bool, act func() error) {
	go func() {
		deadline := time.Now().Add(3 * time.Minute)
		for time.Now().Before(deadline) {
			if cond() {
				if err := act(); err != nil {
					f.errs <- fmt.Errorf("%s: %w", what, err)
				}
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
		f.errs <- fmt.Errorf("%s: its trigger never came", what)
	}()
}

// stall makes the mirror pause mid-file once, so a fault lands mid-download.
func (f *faultRun) stall(r *matrix.Runner, target string) {
	r.Embedded.SetFaults(target, hubmirror.Faults{StallAfter: 1 << 20, StallFor: faultStall, StallTimes: 1})
}

// incompleteReached: the model's file is being downloaded, past the
// mirror's stall point.
func (f *faultRun) incompleteReached(model, file string) func() bool {
	p := filepath.Join(f.home, "models", model, file+".incomplete")
	return func() bool {
		st, err := os.Stat(p)
		return err == nil && st.Size() >= 1<<20
	}
}

func (f *faultRun) cutOnWorker(secs int, model string) error {
	f.faults = append(f.faults, func(r *matrix.Runner) {
		sshd := r.Pools[0].SSHD()
		f.watch("cut the pool's network", func() bool { return f.workerOf(model) != nil }, func() error {
			if err := sshd.Cut(context.Background()); err != nil {
				return err
			}
			time.Sleep(time.Duration(secs) * time.Second)
			err := sshd.Restore(context.Background())
			f.restoredAt = time.Now()
			return err
		})
	})
	return nil
}

func (f *faultRun) killHiveMidDownload(model string) error {
	file := f.weights(model)
	f.faults = append(f.faults, func(r *matrix.Runner) {
		f.stall(r, "rbee-testing/"+model+"/"+file)
		f.watch("kill the hive mid-download", f.incompleteReached(model, file), func() error {
			return f.killProcesses(func(cmdline []string) bool {
				return slices.Contains(cmdline, "download") && slices.Contains(cmdline, model)
			})
		})
	})
	return nil
}

func (f *faultRun) killWorkerOnJob(model string) error {
	f.faults = append(f.faults, func(r *matrix.Runner) {
		var pid int
		f.watch("kill the worker as its first job starts", func() bool {
			rec := f.workerOf(model)
			if rec == nil {
				return false
			}
			b, _ := os.ReadFile(rec.LogPath)
			pid = rec.PID
			return strings.Contains(string(b), "job started")
		}, func() error { return syscall.Kill(pid, syscall.SIGKILL) })
	})
	return nil
}

func (f *faultRun) fillDiskMidDownload(model string) error {
	file := f.weights(model)
	f.faults = append(f.faults, func(r *matrix.Runner) {
		f.stall(r, "rbee-testing/"+model+"/"+file)
		f.watch("fill the disk mid-download", f.incompleteReached(model, file), func() error { return fill(f.filler) })
	})
	return nil
}

// weights names a tiny model's first weights file.
func (f *faultRun) weights(model string) string {
	if model == "tiny-mistral" {
		return "model-00001-of-00002.safetensors"
	}
	return "model.safetensors"
}

// killProcesses SIGKILLs the pool's processes (found by the RBEE_HOME every
// remote command gets) whose command line matches.
func (f *faultRun) killProcesses(match func(cmdline []string) bool) error {
	procs, err := process.Processes()
	if err != nil {
		return err
	}
	killed := 0
	for _, p := range procs {
		env, err := p.Environ()
		if err != nil || !slices.Contains(env, "RBEE_HOME="+f.home) {
			continue
		}
		if args, err := p.CmdlineSlice(); err == nil && match(args) {
			if p.Kill() == nil {
				killed++
			}
		}
	}
	if killed == 0 {
		return fmt.Errorf("no matching process of the pool")
	}
	return nil
}

// fill writes to path until its file system is full.
func fill(path string) error {
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := fh.Write(buf); err != nil {
			if strings.Contains(err.Error(), "no space left") {
				return nil
			}
			return err
		}
	}
}

func (f *faultRun) runMatrix(ctx context.Context, resume bool) error {
	ctx, cancel := context.WithTimeout(ctx, matrixTimeout)
	defer cancel()
	cfg := matrix.Config{Pools: f.pools, Models: f.models, WorkDir: f.workDir, Bins: f.w.Bins,
		CellTimeout: 2 * time.Minute, RedialLimit: time.Minute}
	if resume {
		prev := f.first
		cfg.Resume = &prev
	}
	r, err := matrix.Setup(ctx, cfg)
	if err != nil {
		return err
	}
	f.runner = r
	f.w.Cleanup(func() { _ = r.Close() })
	for _, arm := range f.faults {
		arm(r)
	}
	f.faults = nil
	f.run = r.Run(ctx, nil)
	select {
	case err := <-f.errs:
		return err
	default:
	}
	if !resume {
		f.first = f.run
	}
	return nil
}
