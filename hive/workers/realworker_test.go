package workers_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/workers"
	"github.com/rbee-go/rbee/worker"
	"github.com/rbee-go/rbee/worker/tinymodel"
)

// buildDir holds binaries built by the tests; TestMain creates and removes it.
var buildDir string

// realWorker builds worker/cmd/llm-worker-rbee once per test binary.
var realWorker = sync.OnceValues(func() (string, error) {
	bin := filepath.Join(buildDir, "llm-worker-rbee")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(gobin, "build", "-o", bin, "github.com/rbee-go/rbee/worker/cmd/llm-worker-rbee").CombinedOutput()
	if err != nil {
		return "", &buildError{err: err, out: string(out)}
	}
	return bin, nil
})

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string {
	return "building llm-worker-rbee: " + e.err.Error() + "\n" + e.out
}

// The real Go worker with a generated tiny model: spawned with the default
// DESIGN §5 arguments, ready through its callback, serves tokens, lists as
// ready, stops on SIGTERM and leaves nothing.
func TestRealWorkerLifecycle(t *testing.T) {
	bin, err := realWorker()
	require.NoError(t, err)

	home := t.TempDir()
	modelDir := filepath.Join(home, "models", "tiny-llama")
	require.NoError(t, tinymodel.Generate(modelDir, tinymodel.Llama, tinymodel.DefaultSeed))
	m := &workers.Manager{
		Home:    home,
		Catalog: mapCatalog{"tiny-llama": {ID: "tiny-llama", Path: modelDir, Downloaded: true, Backends: []string{"cpu"}}},
		Env:     append(os.Environ(), "RBEE_WORKER_BIN_CPU="+bin, "RBEE_WORKER_ARGS=", "RBEE_WORKER_ARGS_CPU="),
	}
	ctx := context.Background()
	res, err := m.Spawn(ctx, workers.SpawnRequest{Backend: "cpu", ModelID: "tiny-llama", Port: freePort(t), Wait: 60 * time.Second})
	require.NoError(t, err, "log:\n%s", readFile(filepath.Join(home, "workers", "worker-cpu-0.log")))
	t.Cleanup(func() { _, _ = m.Stop(context.Background(), res.ID, time.Second) })
	// The worker serves /health and then calls back: either signal may win.
	assert.Contains(t, []string{"callback", "health"}, res.ReadyVia)
	assert.Equal(t, workers.StateReady, res.State)

	events, err := worker.NewClient(res.URI).Run(ctx, worker.NewExecuteRequest("job-1", "Hello", 8))
	require.NoError(t, err)
	require.NoError(t, worker.CheckJob("job-1", events))
	tokens := 0
	for _, ev := range events {
		if ev.Type == worker.EventToken {
			tokens++
		}
	}
	assert.Positive(t, tokens)

	list, err := m.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, workers.StateReady, list[0].State)

	st, err := m.Stop(ctx, res.ID, 10*time.Second)
	require.NoError(t, err)
	assert.True(t, st.WasRunning)
	assert.False(t, st.Killed, "the Go worker should exit on SIGTERM")
	// Gone (a zombie until this test process's reaper collects it).
	require.Eventually(t, func() bool { return !processExists(res.PID) }, 5*time.Second, 10*time.Millisecond)
	list, err = m.List(ctx)
	require.NoError(t, err)
	assert.Empty(t, list)
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// BenchmarkStopRealWorker: Stop of the real Go worker serving a tiny model
// (it honours SIGTERM; target ≤ 1 s). Reference in the same run: SIGTERM
// and wait on a plain child process (sleep).
func BenchmarkStopRealWorker(b *testing.B) {
	bin, err := realWorker()
	require.NoError(b, err)
	home := b.TempDir()
	modelDir := filepath.Join(home, "models", "tiny-llama")
	require.NoError(b, tinymodel.Generate(modelDir, tinymodel.Llama, tinymodel.DefaultSeed))
	m := &workers.Manager{
		Home:    home,
		Catalog: mapCatalog{"tiny-llama": {ID: "tiny-llama", Path: modelDir, Downloaded: true, Backends: []string{"cpu"}}},
		Env:     append(os.Environ(), "RBEE_WORKER_BIN_CPU="+bin, "RBEE_WORKER_ARGS=", "RBEE_WORKER_ARGS_CPU="),
	}
	b.Cleanup(func() { // whatever an early failure left running
		list, _ := m.List(context.Background())
		for _, w := range list {
			_, _ = m.Stop(context.Background(), w.ID, time.Second)
		}
	})
	var took, ref []time.Duration
	for b.Loop() {
		b.StopTimer()
		res, err := m.Spawn(context.Background(), workers.SpawnRequest{Backend: "cpu", ModelID: "tiny-llama", Port: freePort(b), Wait: 60 * time.Second})
		require.NoError(b, err)
		sleep := exec.Command("sleep", "60")
		require.NoError(b, sleep.Start())
		b.Cleanup(func() { _ = sleep.Process.Kill() }) // if an assertion stops the loop early
		b.StartTimer()

		st, err := m.Stop(context.Background(), res.ID, 10*time.Second)
		require.NoError(b, err)
		require.False(b, st.Killed, "the Go worker ignored SIGTERM")
		took = append(took, st.Took)

		start := time.Now()
		require.NoError(b, sleep.Process.Signal(syscall.SIGTERM))
		_ = sleep.Wait()
		ref = append(ref, time.Since(start))
	}
	b.ReportMetric(ms(median(took)), "ms-stop")
	b.ReportMetric(ms(median(ref)), "ms-ref-sigterm-wait")
	b.ReportMetric(float64(median(took))/float64(median(ref)), "ratio")
}
