package workers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/workers"
)

func TestSpawnReady(t *testing.T) {
	tests := []struct{ mode, via string }{
		{"callback", "callback"},
		{"health", "health"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			f := newFixture(t, tt.mode)
			res, err := f.spawn(t, 20*time.Second)
			require.NoError(t, err)
			assert.Equal(t, tt.via, res.ReadyVia)
			assert.Equal(t, workers.StateReady, res.State)
			assert.False(t, res.AlreadyRunning)
			assert.Equal(t, "worker-cpu-0", res.ID)

			// The record on disk has everything a later command needs.
			data, err := os.ReadFile(filepath.Join(f.home, "workers", "worker-cpu-0.json"))
			require.NoError(t, err)
			var rec workers.Record
			require.NoError(t, json.Unmarshal(data, &rec))
			assert.Equal(t, res.PID, rec.PID)
			assert.Equal(t, f.pids(t), []int{rec.PID})
			assert.NotZero(t, rec.StartTime)
			assert.Equal(t, "tiny", rec.ModelID)
			assert.Equal(t, f.catalog["tiny"].Path, rec.ModelPath)
			assert.Equal(t, "http://127.0.0.1:"+strconv.Itoa(rec.Port), rec.URI)
			assert.Contains(t, rec.Args, strconv.Itoa(rec.Port))
			assert.Equal(t, filepath.Join(f.home, "workers", "worker-cpu-0.log"), rec.LogPath)
			assert.False(t, rec.ReadyAt.IsZero())

			resp, err := http.Get(rec.URI + "/health")
			require.NoError(t, err)
			resp.Body.Close()

			// The callback double answers /health a moment after calling back.
			require.Eventually(t, func() bool {
				list, err := f.m.List(context.Background())
				return err == nil && len(list) == 1 && list[0].State == workers.StateReady
			}, 5*time.Second, 10*time.Millisecond)

			st, err := f.m.Stop(context.Background(), "worker-cpu-0", 5*time.Second)
			require.NoError(t, err)
			assert.True(t, st.WasRunning)
			assert.False(t, st.Killed)
			f.requireNoRecord(t, "worker-cpu-0")
			f.requireNoProcess(t)
			list, err := f.m.List(context.Background())
			require.NoError(t, err)
			assert.Empty(t, list)
		})
	}
}

func TestSpawnStartupFailure(t *testing.T) {
	tests := []struct {
		name, mode string
		wait       time.Duration
		message    string
		lastLine   string
	}{
		{"crash", "crash", 20 * time.Second, "exited before ready (exit status 3)", "crash line 30"},
		{"never ready", "never", 300 * time.Millisecond, "did not become ready within 300ms", "loading forever"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.mode)
			start := time.Now()
			_, err := f.spawn(t, tt.wait)
			we := requireCode(t, err, workers.CodeWorkerStartupFailed)
			assert.Less(t, time.Since(start), tt.wait+5*time.Second)
			assert.Contains(t, we.Message, tt.message)
			require.NotEmpty(t, we.LogTail)
			assert.LessOrEqual(t, len(we.LogTail), 20)
			assert.Equal(t, tt.lastLine, we.LogTail[len(we.LogTail)-1])
			assert.Contains(t, we.Detail(), tt.lastLine)
			require.Len(t, f.pids(t), 1, "the double never started")
			f.requireNoRecord(t, "worker-cpu-0")
			f.requireNoProcess(t)
		})
	}
}

func TestSpawnCrashKeepsTheLastTwentyLines(t *testing.T) {
	f := newFixture(t, "crash")
	_, err := f.spawn(t, 20*time.Second)
	we := requireCode(t, err, workers.CodeWorkerStartupFailed)
	require.Len(t, we.LogTail, 20)
	assert.Equal(t, "crash line 11", we.LogTail[0])
	// The log stays for the operator even though the record is gone.
	var buf stringsBuilder
	require.NoError(t, f.m.Logs(context.Background(), "worker-cpu-0", workers.LogOptions{Tail: 2}, &buf))
	assert.Equal(t, "crash line 29\ncrash line 30\n", buf.String())
}

func TestSpawnCancelledLeavesNothing(t *testing.T) {
	f := newFixture(t, "never")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := f.m.Spawn(ctx, workers.SpawnRequest{Backend: "cpu", ModelID: "tiny", Port: freePort(t)})
		done <- err
	}()
	// While it loads, list shows it as loading.
	require.Eventually(t, func() bool {
		l, err := f.m.List(context.Background())
		return err == nil && len(l) == 1 && l[0].State == workers.StateLoading
	}, 10*time.Second, 20*time.Millisecond)
	cancel()
	err := <-done
	requireCode(t, err, workers.CodeWorkerStartupFailed)
	require.ErrorIs(t, err, context.Canceled)
	f.requireNoRecord(t, "worker-cpu-0")
	f.requireNoProcess(t)
}

func TestSpawnBusyPortTakesTheNextFree(t *testing.T) {
	f := newFixture(t, "both")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { busy.Close() })
	port := busy.Addr().(*net.TCPAddr).Port

	res, err := f.m.Spawn(context.Background(), workers.SpawnRequest{Backend: "cpu", ModelID: "tiny", Port: port, Wait: 20 * time.Second})
	require.NoError(t, err)
	assert.Greater(t, res.Port, port)
	assert.Contains(t, res.Args, strconv.Itoa(res.Port))
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(res.Port) + "/health")
	require.NoError(t, err)
	resp.Body.Close()
}

// A worker serving on another port than --port: the callback's uri wins,
// so list and stop still find it.
func TestSpawnTakesThePortFromTheCallback(t *testing.T) {
	f := newFixture(t, "both", "RBEE_WORKER_ARGS="+doubleArgs("both", "--any-port"))
	asked := freePort(t)
	res, err := f.m.Spawn(context.Background(), workers.SpawnRequest{Backend: "cpu", ModelID: "tiny", Port: asked, Wait: 20 * time.Second})
	require.NoError(t, err)
	// Nothing serves the asked port, so only the callback can report ready.
	require.Equal(t, "callback", res.ReadyVia)
	assert.NotEqual(t, asked, res.Port)
	assert.Equal(t, "http://127.0.0.1:"+strconv.Itoa(res.Port), res.URI)
	st, err := f.m.Get(context.Background(), res.ID)
	require.NoError(t, err)
	assert.Equal(t, workers.StateReady, st.State)
}

func TestSpawnDefaultPortIs8000PlusGPU(t *testing.T) {
	f := newFixture(t, "both")
	res, err := f.m.Spawn(context.Background(), workers.SpawnRequest{Backend: "cuda", ModelID: "tiny", GPU: 3, Wait: 20 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, "worker-cuda-3", res.ID)
	// 8003 unless something on this machine holds it, then the next free one.
	assert.GreaterOrEqual(t, res.Port, 8003)
	assert.Contains(t, res.Args, "3") // --device
}

func TestSpawnSameIDTwice(t *testing.T) {
	f := newFixture(t, "both")
	first, err := f.spawn(t, 20*time.Second)
	require.NoError(t, err)

	second, err := f.spawn(t, 20*time.Second)
	require.NoError(t, err)
	assert.True(t, second.AlreadyRunning)
	assert.Equal(t, first.PID, second.PID)
	assert.Equal(t, first.URI, second.URI)
	assert.Equal(t, workers.StateReady, second.State)
	assert.Len(t, f.pids(t), 1, "a second process was started")

	// Another model on the same id is refused, the running one untouched.
	f.catalog["other"] = workers.Model{ID: "other", Path: f.catalog["tiny"].Path, Downloaded: true, Backends: []string{"cpu"}}
	_, err = f.m.Spawn(context.Background(), workers.SpawnRequest{Backend: "cpu", ModelID: "other"})
	we := requireCode(t, err, workers.CodeWorkerAlreadyRunning)
	assert.Contains(t, we.Message, first.URI)
	st, err := f.m.Get(context.Background(), "worker-cpu-0")
	require.NoError(t, err)
	assert.Equal(t, workers.StateReady, st.State)
	assert.Equal(t, first.PID, st.PID)
}

func TestSpawnConcurrentSameID(t *testing.T) {
	f := newFixture(t, "both", "RBEE_WORKER_ARGS="+doubleArgs("both", "--delay", "200ms"))
	port := freePort(t)
	var wg sync.WaitGroup
	results := make([]workers.SpawnResult, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = f.m.Spawn(context.Background(), workers.SpawnRequest{Backend: "cpu", ModelID: "tiny", Port: port, Wait: 20 * time.Second})
		}()
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	assert.NotEqual(t, results[0].AlreadyRunning, results[1].AlreadyRunning)
	assert.Equal(t, results[0].PID, results[1].PID)
	assert.Len(t, f.pids(t), 1)
}

func TestKilledFromOutsideIsDead(t *testing.T) {
	f := newFixture(t, "both")
	res, err := f.spawn(t, 20*time.Second)
	require.NoError(t, err)
	require.NoError(t, syscall.Kill(res.PID, syscall.SIGKILL))

	require.Eventually(t, func() bool {
		st, err := f.m.Get(context.Background(), res.ID)
		return err == nil && st.State == workers.StateDead
	}, 5*time.Second, 10*time.Millisecond)

	// A new spawn replaces the dead record.
	again, err := f.spawn(t, 20*time.Second)
	require.NoError(t, err)
	assert.False(t, again.AlreadyRunning)
	assert.NotEqual(t, res.PID, again.PID)
	require.NoError(t, syscall.Kill(again.PID, syscall.SIGKILL))
	require.Eventually(t, func() bool {
		st, err := f.m.Get(context.Background(), res.ID)
		return err == nil && st.State == workers.StateDead
	}, 5*time.Second, 10*time.Millisecond)

	// Stopping a dead worker removes its record and signals nothing.
	st, err := f.m.Stop(context.Background(), res.ID, time.Second)
	require.NoError(t, err)
	assert.False(t, st.WasRunning)
	f.requireNoRecord(t, res.ID)
}

func TestReusedPidIsNotTheWorker(t *testing.T) {
	f := newFixture(t, "both")
	res, err := f.spawn(t, 20*time.Second)
	require.NoError(t, err)
	_, err = f.m.Stop(context.Background(), res.ID, 5*time.Second)
	require.NoError(t, err)

	// Another process now holds the recorded pid: simulate by pointing a
	// record at a live process that started at another time.
	other, err := os.StartProcess("/bin/sleep", []string{"sleep", "60"}, &os.ProcAttr{})
	require.NoError(t, err)
	t.Cleanup(func() { other.Kill(); other.Wait() }) //nolint:errcheck
	rec := res.Record
	rec.PID = other.Pid
	rec.StartTime = res.StartTime - 60_000
	data, err := json.Marshal(rec)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(f.home, "workers", res.ID+".json"), data, 0o644))

	st, err := f.m.Get(context.Background(), res.ID)
	require.NoError(t, err)
	assert.Equal(t, workers.StateDead, st.State)
	stop, err := f.m.Stop(context.Background(), res.ID, time.Second)
	require.NoError(t, err)
	assert.False(t, stop.WasRunning)
	assert.True(t, processExists(other.Pid), "stop signalled a process that is not the worker")
	f.requireNoRecord(t, res.ID)
}

func TestStopEscalatesToSIGKILL(t *testing.T) {
	f := newFixture(t, "ignore-term")
	res, err := f.spawn(t, 20*time.Second)
	require.NoError(t, err)
	st, err := f.m.Stop(context.Background(), res.ID, 300*time.Millisecond)
	require.NoError(t, err)
	assert.True(t, st.WasRunning)
	assert.True(t, st.Killed)
	assert.GreaterOrEqual(t, st.Took, 300*time.Millisecond)
	f.requireNoRecord(t, res.ID)
	f.requireNoProcess(t)
}

func TestStopUnknownWorker(t *testing.T) {
	f := newFixture(t, "both")
	for _, id := range []string{"worker-cpu-9", "../../etc/passwd"} {
		_, err := f.m.Stop(context.Background(), id, time.Second)
		require.Error(t, err)
		assert.Contains(t, []workers.Code{workers.CodeWorkerNotFound, workers.CodeInvalidRequest}, workers.CodeOf(err))
	}
	_, err := f.m.Stop(context.Background(), "worker-cpu-9", time.Second)
	requireCode(t, err, workers.CodeWorkerNotFound)
}

// TestSpawnIgnoresAnImpostorOnItsPort: another process that takes the port
// between the port check and the worker's bind, and answers /health, must
// not make a worker that never listens pass for ready.
func TestSpawnIgnoresAnImpostorOnItsPort(t *testing.T) {
	f := newFixture(t, "never")
	port := freePort(t)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := f.m.Spawn(ctx, workers.SpawnRequest{Backend: "cpu", ModelID: "tiny", Port: port, Wait: 1500 * time.Millisecond})
		done <- err
	}()
	require.Eventually(t, func() bool { return len(f.pids(t)) == 1 }, 10*time.Second, 5*time.Millisecond)
	impostor := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"status":"healthy","vram_bytes":0}`)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	require.NoError(t, err)
	impostor.Listener = ln
	impostor.Start()
	t.Cleanup(impostor.Close)

	err = <-done
	we := requireCode(t, err, workers.CodeWorkerStartupFailed)
	assert.Contains(t, we.Message, "did not become ready")
	f.requireNoRecord(t, "worker-cpu-0")
	f.requireNoProcess(t)
}
