package workers_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/workers"
)

func TestLogsTail(t *testing.T) {
	f := newFixture(t, "both")
	dir := filepath.Join(f.home, "workers")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	var long strings.Builder
	for i := 1; i <= 5000; i++ { // several read chunks
		fmt.Fprintf(&long, "line %d %s\n", i, strings.Repeat("x", 20))
	}
	files := map[string]string{
		"worker-cpu-1": long.String(),
		"worker-cpu-2": "only\n",
		"worker-cpu-3": "no newline at end",
		"worker-cpu-4": "",
	}
	for id, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, id+".log"), []byte(content), 0o644))
	}
	tests := []struct {
		id   string
		tail int
		want string
	}{
		{"worker-cpu-1", 2, "line 4999 xxxxxxxxxxxxxxxxxxxx\nline 5000 xxxxxxxxxxxxxxxxxxxx\n"},
		{"worker-cpu-1", 0, long.String()},
		{"worker-cpu-2", 5, "only\n"},
		{"worker-cpu-3", 1, "no newline at end\n"},
		{"worker-cpu-3", 0, "no newline at end"},
		{"worker-cpu-4", 3, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/tail=%d", tt.id, tt.tail), func(t *testing.T) {
			var out stringsBuilder
			require.NoError(t, f.m.Logs(context.Background(), tt.id, workers.LogOptions{Tail: tt.tail}, &out))
			assert.Equal(t, tt.want, out.String())
		})
	}
	t.Run("1000 of 5000", func(t *testing.T) {
		var out stringsBuilder
		require.NoError(t, f.m.Logs(context.Background(), "worker-cpu-1", workers.LogOptions{Tail: 1000}, &out))
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		require.Len(t, lines, 1000)
		assert.True(t, strings.HasPrefix(lines[0], "line 4001 "))
	})
	t.Run("unknown worker", func(t *testing.T) {
		err := f.m.Logs(context.Background(), "worker-cpu-9", workers.LogOptions{}, &stringsBuilder{})
		requireCode(t, err, workers.CodeWorkerNotFound)
	})
}

// --follow prints what the worker writes and returns when it exits.
func TestLogsFollowUntilTheWorkerExits(t *testing.T) {
	f := newFixture(t, "both")
	res, err := f.spawn(t, 20*time.Second)
	require.NoError(t, err)
	var out stringsBuilder
	done := make(chan error, 1)
	go func() {
		done <- f.m.Logs(context.Background(), res.ID, workers.LogOptions{Follow: true, Tail: 1}, &out)
	}()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "ready") }, 5*time.Second, 10*time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("follow returned while the worker runs: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	// Output written later (here by another writer of the log) shows up.
	lf, err := os.OpenFile(res.LogPath, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = lf.WriteString("appended later\n")
	require.NoError(t, err)
	require.NoError(t, lf.Close())
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "appended later") }, 5*time.Second, 10*time.Millisecond)

	require.NoError(t, syscall.Kill(res.PID, syscall.SIGKILL))
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("follow did not end when the worker exited")
	}
	assert.NotContains(t, out.String(), "double both:", "--tail 1 printed more than the last line")
}

func TestLogsFollowEndsOnCancel(t *testing.T) {
	f := newFixture(t, "both")
	res, err := f.spawn(t, 20*time.Second)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.m.Logs(ctx, res.ID, workers.LogOptions{Follow: true}, &stringsBuilder{}) }()
	time.Sleep(150 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("follow ignored cancellation")
	}
}
