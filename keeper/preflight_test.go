package keeper_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/internal/testbed/harness"
	"github.com/rbee-go/rbee/keeper"
)

func TestPreflight(t *testing.T) {
	bins, err := harness.Build()
	require.NoError(t, err)
	workerBin := filepath.Join(t.TempDir(), "llm-worker-rbee")
	require.NoError(t, os.WriteFile(workerBin, []byte("#!/bin/sh\n"), 0o755))
	t.Setenv("RBEE_WORKER_BIN", "")
	t.Setenv("RBEE_WORKER_BIN_CPU", "")
	// No llm-worker-rbee on PATH (make test puts bin/ first); the hive is run by its path.
	t.Setenv("PATH", t.TempDir())

	tests := []struct {
		name     string
		pool     keeper.Pool
		env      map[string]string
		ok       bool
		problem  string
		warning  string
		noStatus bool
	}{
		{"cpu pool with worker", keeper.Pool{Backends: []string{"cpu"}}, map[string]string{"RBEE_WORKER_BIN_CPU": workerBin}, true, "", "", false},
		{"promised cpu without worker", keeper.Pool{Backends: []string{"cpu"}}, nil, false, "no worker binary for backend cpu", "", false},
		{"promised cuda absent", keeper.Pool{Backends: []string{"cuda"}}, map[string]string{"RBEE_WORKER_BIN_CPU": workerBin}, false, "backend cuda is in the pools file but not available", "", false},
		{"nothing promised, no worker", keeper.Pool{}, nil, true, "", "backend cpu is available but has no worker binary", false},
		{"hive missing", keeper.Pool{HiveBin: "/nonexistent/rbee-hive"}, nil, false, "rbee-hive not found", "", true},
		{"old hive", keeper.Pool{HiveBin: fakeHive(t, `case "$*" in *--version*) echo "rbee-hive 0.0.1 (go)";; *status*) echo '{"backends":["cpu"],"worker_binaries":{"cpu":"/w"},"disk_free_bytes":1}';; esac`)}, nil, true, "", `rbee-hive version "0.0.1" differs`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			pool := tt.pool
			pool.Name, pool.Host, pool.Home = "p", "localhost", filepath.Join(t.TempDir(), "home")
			if pool.HiveBin == "" {
				pool.HiveBin = bins.Path(harness.Hive)
			}
			k := &keeper.Keeper{Pools: &keeper.Pools{Pools: []keeper.Pool{pool}}}
			r := k.Preflight(context.Background(), "p")
			assert.Equal(t, tt.ok, r.OK, "problems %v", r.Problems)
			if tt.problem != "" {
				require.NotEmpty(t, r.Problems)
				assert.Contains(t, r.Problems[0], tt.problem)
			}
			if tt.warning != "" {
				assert.True(t, slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.Contains(w, tt.warning) }),
					"warnings %v lack %q", r.Warnings, tt.warning)
			}
			assert.Equal(t, tt.noStatus, r.Status == nil)
			if !tt.noStatus {
				assert.Equal(t, "local", r.Transport)
			}
		})
	}
	reports := (&keeper.Keeper{Pools: &keeper.Pools{}}).PreflightAll(context.Background(), []string{"localhost", "far.lan"})
	require.Len(t, reports, 2)
	assert.Equal(t, "far.lan", reports[1].Host)
	assert.False(t, reports[1].OK)
	assert.Contains(t, reports[1].Problems[0], "SSH transport not available yet")
}

// A broken worker profile of a promised backend is a problem; the other
// backends still resolve.
func TestPreflightReportsABadProfile(t *testing.T) {
	bins, err := harness.Build()
	require.NoError(t, err)
	workerBin := filepath.Join(t.TempDir(), "llm-worker-rbee")
	require.NoError(t, os.WriteFile(workerBin, []byte("#!/bin/sh\n"), 0o755))
	t.Setenv("RBEE_WORKER_BIN", "")
	t.Setenv("RBEE_WORKER_BIN_CPU", workerBin)
	home := filepath.Join(t.TempDir(), "home")
	require.NoError(t, os.MkdirAll(home, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(home, "worker-args.toml"), []byte("[backends.cpu]\nprofile = \"rust\"\n"), 0o644))
	pool := keeper.Pool{Name: "p", Host: "localhost", Home: home, HiveBin: bins.Path(harness.Hive), Backends: []string{"cpu"}}
	r := (&keeper.Keeper{Pools: &keeper.Pools{Pools: []keeper.Pool{pool}}}).Preflight(context.Background(), "p")
	assert.False(t, r.OK)
	require.NotEmpty(t, r.Problems)
	assert.Contains(t, r.Problems[0], `worker profile of backend cpu: WORKER_ARGS_INVALID: `+filepath.Join(home, "worker-args.toml")+`: backends.cpu.profile: unknown preset "rust"`)
	require.NotNil(t, r.Status)
	assert.Equal(t, "rust-seed", r.Status.WorkerProfiles["cuda"].Name)
}
