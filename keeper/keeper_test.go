package keeper_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/catalog"
	"github.com/rbee-go/rbee/internal/testbed/harness"
	"github.com/rbee-go/rbee/keeper"
)

// fakeHive writes a script standing in for rbee-hive; it logs its arguments
// to args.log next to it.
func fakeHive(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "rbee-hive")
	script := "#!/bin/sh\necho \"$@\" >> " + filepath.Join(dir, "args.log") + "\n" + body + "\n"
	require.NoError(t, os.WriteFile(p, []byte(script), 0o755))
	return p
}

func localKeeper(hiveBin, home string) *keeper.Keeper {
	return &keeper.Keeper{Pools: &keeper.Pools{Pools: []keeper.Pool{{Name: "box", Host: "localhost", HiveBin: hiveBin, Home: home}}}}
}

func TestLocalTransport(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		bin      string
		wantCode int
		wantOut  string
		wantErr  keeper.Code
	}{
		{"ok", `echo out; echo err >&2`, "", 0, "out\n", ""},
		{"hive failure is an exit code, not an error", `echo "error: nope" >&2; exit 1`, "", 1, "", ""},
		{"usage", `exit 2`, "", 2, "", ""},
		{"missing binary", "", "/nonexistent/rbee-hive", keeper.ExitNotFound, "", keeper.CodeHiveNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := tt.bin
			if bin == "" {
				bin = fakeHive(t, tt.body)
			}
			tr := keeper.LocalTransport{Target: keeper.Target{Spec: "box", Local: true, HiveBin: bin, Home: "/h"}}
			var out, errb bytes.Buffer
			code, err := tr.Run(context.Background(), []string{"status", "--json"}, &out, &errb)
			assert.Equal(t, tt.wantCode, code)
			assert.Equal(t, tt.wantErr, keeper.CodeOf(err))
			assert.Equal(t, tt.wantOut, out.String())
			require.NoError(t, tr.Close())
			if tt.bin == "" {
				logged, err := os.ReadFile(filepath.Join(filepath.Dir(bin), "args.log"))
				require.NoError(t, err)
				assert.Equal(t, "--home /h status --json\n", string(logged), "the pool's home goes first")
			}
		})
	}
}

func TestLocalTransportCancel(t *testing.T) {
	bin := fakeHive(t, "sleep 30")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tr := keeper.LocalTransport{Target: keeper.Target{Spec: "box", HiveBin: bin}}
	code, err := tr.Run(ctx, []string{"status"}, io.Discard, io.Discard)
	assert.Equal(t, keeper.ExitTransport, code)
	assert.ErrorIs(t, err, context.Canceled)
}

type fakeRemote struct {
	mu    sync.Mutex
	dials []keeper.Target
}

func (f *fakeRemote) Dial(_ context.Context, t keeper.Target) (keeper.Transport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dials = append(f.dials, t)
	return scripted{out: `{"pool_id":"` + t.Host + `"}`}, nil
}

type scripted struct {
	out  string
	code int
}

func (s scripted) Run(_ context.Context, _ []string, stdout, _ io.Writer) (int, error) {
	_, err := io.WriteString(stdout, s.out)
	return s.code, err
}

func (scripted) Close() error { return nil }

func TestConnect(t *testing.T) {
	k := &keeper.Keeper{Pools: &keeper.Pools{}}
	_, _, err := k.Connect(context.Background(), "gpu.lan")
	require.ErrorIs(t, err, keeper.ErrSSHUnavailable)
	assert.Contains(t, err.Error(), "SSH transport not available yet")

	_, _, err = k.Connect(context.Background(), "bad host")
	require.ErrorIs(t, err, keeper.ErrBadHost)

	tr, target, err := k.Connect(context.Background(), "localhost")
	require.NoError(t, err)
	assert.IsType(t, keeper.LocalTransport{}, tr)
	assert.True(t, target.Local)

	remote := &fakeRemote{}
	k.Remote = remote
	var st struct {
		PoolID string `json:"pool_id"`
	}
	require.NoError(t, k.RunJSON(context.Background(), "vince@gpu.lan:2222", []string{"status"}, &st))
	assert.Equal(t, "gpu.lan", st.PoolID)
	require.Len(t, remote.dials, 1)
	assert.Equal(t, "vince", remote.dials[0].User)
	assert.Equal(t, 2222, remote.dials[0].Port)
}

func TestRunAllAndJSON(t *testing.T) {
	ok := fakeHive(t, `echo '{"n": 1}'`)
	bad := fakeHive(t, `printf 'error: catalog broken\nhint: fix it\n' >&2; exit 1`)
	k := &keeper.Keeper{Pools: &keeper.Pools{Pools: []keeper.Pool{
		{Name: "ok", Host: "localhost", HiveBin: ok},
		{Name: "bad", Host: "localhost", HiveBin: bad},
	}}}
	results := k.RunAll(context.Background(), []string{"ok", "bad", "far.lan"}, []string{"status", "--json"}, nil)
	require.Len(t, results, 3)
	assert.Equal(t, []string{"ok", "bad", "far.lan"}, []string{results[0].Host, results[1].Host, results[2].Host})
	assert.Equal(t, []int{0, 1, keeper.ExitTransport}, []int{results[0].ExitCode, results[1].ExitCode, results[2].ExitCode})
	assert.Equal(t, keeper.ExitTransport, keeper.ExitCode(results))
	assert.Equal(t, 0, keeper.ExitCode(results[:1]))

	b, err := json.Marshal([]keeper.HostJSON{results[0].ToJSON(), results[1].ToJSON(), results[2].ToJSON()})
	require.NoError(t, err)
	assert.JSONEq(t, `[
	  {"host":"ok","exit_code":0,"output":{"n":1},"error":""},
	  {"host":"bad","exit_code":1,"output":null,"error":"error: catalog broken\nhint: fix it"},
	  {"host":"far.lan","exit_code":255,"output":null,"error":"far.lan: SSH transport not available yet"}
	]`, string(b))

	var v map[string]int
	require.NoError(t, results[0].Decode(&v))
	assert.Equal(t, 1, v["n"])
	err = results[1].Decode(&v)
	require.ErrorIs(t, err, keeper.ErrHiveFailed)
	assert.Equal(t, "bad: catalog broken", err.Error())
	var ke *keeper.Error
	require.ErrorAs(t, err, &ke)
	assert.Equal(t, "fix it", ke.ErrorHint())
	assert.ErrorIs(t, results[2].Decode(&v), keeper.ErrSSHUnavailable)
}

func TestDecodeBadOutput(t *testing.T) {
	k := localKeeper(fakeHive(t, `echo 'ID  NAME'`), "")
	_, err := k.Status(context.Background(), "box")
	assert.ErrorIs(t, err, keeper.ErrBadOutput)
	_, err = k.Catalog(context.Background(), "box")
	assert.ErrorIs(t, err, keeper.ErrBadOutput)
}

// TestTypedResultsFromRealHive drives the real rbee-hive through the
// localhost transport and checks the decoded values against the home.
func TestTypedResultsFromRealHive(t *testing.T) {
	bins, err := harness.Build()
	require.NoError(t, err)
	home := filepath.Join(t.TempDir(), "home")
	k := localKeeper(bins.Path(harness.Hive), home)
	ctx := context.Background()

	for _, args := range [][]string{
		{"models", "register", "tinyllama", "--name", "TinyLlama", "--repo", "TinyLlama/TinyLlama-1.1B-Chat-v1.0", "--architecture", "llama"},
		{"models", "register", "qwen-0.5b", "--name", "Qwen", "--repo", "Qwen/Qwen2.5-0.5B-Instruct", "--architecture", "qwen", "--backends", "cpu"},
	} {
		var out bytes.Buffer
		res := k.RunOne(ctx, "box", args, keeper.Streams{Stdout: &out, Stderr: &out})
		require.NoError(t, res.Err)
		require.Equal(t, 0, res.ExitCode, out.String())
	}
	c, err := k.Catalog(ctx, "box")
	require.NoError(t, err)
	local, err := catalog.ForHome(home).Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, local, c)

	st, err := k.Status(ctx, "box")
	require.NoError(t, err)
	assert.Equal(t, 2, st.Models.Registered)
	assert.Equal(t, home, st.Home)
	assert.Contains(t, st.Backends, "cpu")

	models, err := k.Models(ctx, "box")
	require.NoError(t, err)
	assert.Empty(t, models)

	// A hive failure surfaces as a typed error with the hive's own message.
	res := k.RunOne(ctx, "box", []string{"models", "unregister", "nope", "--json"}, keeper.Streams{})
	err = res.Decode(&struct{}{})
	require.ErrorIs(t, err, keeper.ErrHiveFailed)
	assert.Contains(t, err.Error(), `model "nope" is not in the catalog`)
}

func TestPrefixWriter(t *testing.T) {
	var out bytes.Buffer
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := keeper.NewPrefixWriter(&out, fmt.Sprintf("h%d", i), &mu)
			for j := range 50 {
				// Lines split across writes must come out whole.
				fmt.Fprintf(w, "line %d ", j)
				fmt.Fprintf(w, "of h%d\n", i)
			}
			fmt.Fprint(w, "tail")
			require.NoError(t, w.Flush())
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	assert.Len(t, lines, 8*51)
	for _, l := range lines {
		var host string
		_, err := fmt.Sscanf(l, "[%s", &host)
		require.NoError(t, err, l)
		host = strings.TrimSuffix(host, "]")
		assert.True(t, strings.HasSuffix(l, "of "+host) || strings.HasSuffix(l, "] tail"), l)
	}
}

func TestLocalHiveBinTilde(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	require.NoError(t, os.MkdirAll(filepath.Join(home, "go", "bin"), 0o755))
	bin := fakeHive(t, `echo "rbee-hive 9"`)
	require.NoError(t, os.Rename(bin, filepath.Join(home, "go", "bin", "rbee-hive")))
	var out bytes.Buffer
	code, err := keeper.LocalTransport{Target: keeper.Target{Spec: "p", HiveBin: "~/go/bin/rbee-hive"}}.Run(context.Background(), []string{"--version"}, &out, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 0, code)
	assert.Equal(t, "rbee-hive 9\n", out.String())
}
