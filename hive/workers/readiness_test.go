package workers_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/workers"
)

// The Rust worker calls back before it binds: Spawn returns only once the
// port is open and /health answers, and the callback reply reached it (it
// exits 1 otherwise).
func TestSpawnWaitsForTheBindAfterTheCallback(t *testing.T) {
	f := newFixture(t, "callback-first")
	res, err := f.spawn(t, 20*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "callback", res.ReadyVia)
	assert.Equal(t, "http://127.0.0.1:"+strconv.Itoa(res.Port), res.URI, "localhost is recorded as 127.0.0.1")
	resp, err := http.Get(res.URI + "/health")
	require.NoError(t, err, "Spawn returned before the worker served")
	resp.Body.Close()
	st, err := f.m.Get(context.Background(), res.ID)
	require.NoError(t, err)
	assert.Equal(t, workers.StateReady, st.State)
}

// A worker that exits after its callback fails the spawn with its log
// tail and leaves no process and no record.
func TestSpawnWorkerExitsAfterCallback(t *testing.T) {
	f := newFixture(t, "exit-after-callback")
	_, err := f.spawn(t, 20*time.Second)
	we := requireCode(t, err, workers.CodeWorkerStartupFailed)
	assert.Contains(t, we.Message, "exited after its ready callback (exit status 4)")
	assert.Contains(t, we.LogTail, "Error: CUDA_ERROR_OUT_OF_MEMORY after the callback")
	assert.Equal(t, "CUDA_ERROR_OUT_OF_MEMORY after the callback", workers.TellingLine(we.LogTail))
	f.requireNoRecord(t, "worker-cpu-0")
	f.requireNoProcess(t)
}

// Only POST /ready with this spawn's worker id counts.
func TestCallbackServerRefusesOthers(t *testing.T) {
	f := newFixture(t, "wrong-callback")
	_, err := f.spawn(t, 2*time.Second)
	we := requireCode(t, err, workers.CodeWorkerStartupFailed)
	assert.Contains(t, we.Message, "did not become ready")
	assert.Contains(t, we.LogTail, "wrong id: status 409 <nil>")
	assert.Contains(t, we.LogTail, "wrong path: status 404 <nil>")
}
