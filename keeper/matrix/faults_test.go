package matrix_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/internal/testbed/harness"
	"github.com/rbee-go/rbee/internal/testbed/sshpool"
	"github.com/rbee-go/rbee/keeper/matrix"
)

// whenWorkerRecorded calls fn once a worker record appears in a pool's
// home: the cell has spawned and is about to talk to its worker.
func whenWorkerRecorded(t *testing.T, home string, fn func()) {
	t.Helper()
	go func() {
		deadline := time.Now().Add(2 * time.Minute)
		for time.Now().Before(deadline) {
			ents, _ := os.ReadDir(filepath.Join(home, "workers"))
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), ".json") && !strings.HasPrefix(e.Name(), ".") {
					fn()
					return
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
}

func setupFaults(t *testing.T, pools []string, models string, limit time.Duration) *matrix.Runner {
	t.Helper()
	require.NoError(t, sshpool.NetnsAvailable(context.Background()), "needs root and iproute2 (network namespaces)")
	bins, err := harness.Build()
	require.NoError(t, err)
	r, err := matrix.Setup(context.Background(), matrix.Config{Pools: pools, Models: models, WorkDir: t.TempDir(),
		Bins: bins, RedialLimit: limit, CellTimeout: 2 * time.Minute})
	require.NoError(t, err)
	return r
}

// A pool that stays away fails its remaining cells with "pool unreachable
// since T"; the other pool goes on and passes.
func TestPoolThatStaysAwayFailsItsCells(t *testing.T) {
	r := setupFaults(t, []string{"harness-ns:cpu", "harness:cpu"}, "tiny-llama,tiny-qwen2", 3*time.Second)
	ns := r.Pools[0]
	require.Equal(t, "harness-ns", ns.Name)
	ctx := context.Background()
	whenWorkerRecorded(t, ns.SSHD().Home, func() { _ = ns.SSHD().Cut(ctx) })
	run := r.Run(ctx, nil)
	require.Len(t, run.Cells, 4)
	for _, c := range run.Cells {
		if c.Pool == "harness-ns" {
			assert.Equal(t, matrix.Fail, c.Status)
			assert.Contains(t, c.Reason, "pool unreachable since ", c.Model)
		} else {
			assert.Equal(t, matrix.Pass, c.Status, c.Reason)
		}
	}
	// the cut pool's worker could not be stopped over SSH: Close says so,
	// and the test bed's sshd stop reaps it
	require.NoError(t, ns.SSHD().Restore(ctx))
	assert.Error(t, r.Close(), "leftovers on the unreachable pool are reported")
	noWorkersRunning(t, ns.SSHD().Home)
}

// noWorkersRunning checks that no worker recorded in home still runs.
func noWorkersRunning(t *testing.T, home string) {
	t.Helper()
	ents, _ := os.ReadDir(filepath.Join(home, "workers"))
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(home, "workers", e.Name()))
		require.NoError(t, err)
		var rec struct {
			PID int `json:"pid"`
		}
		require.NoError(t, json.Unmarshal(b, &rec))
		assert.Eventually(t, func() bool { return !running(rec.PID) }, 5*time.Second, 20*time.Millisecond,
			"worker %s (pid %d) still runs", e.Name(), rec.PID)
	}
}

// running: the process exists and is not a zombie waiting for its parent.
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, ok := strings.Cut(string(b), ") ")
	return ok && !strings.HasPrefix(rest, "Z")
}
