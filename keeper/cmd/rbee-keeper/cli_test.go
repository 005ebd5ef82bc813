package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/internal/testbed/harness"
)

// setup puts the real rbee-hive on PATH, a home in RBEE_HOME and returns an
// environment for the keeper with a pools file.
func setup(t *testing.T) (env map[string]string, home string) {
	t.Helper()
	bins, err := harness.Build()
	require.NoError(t, err)
	dir := t.TempDir()
	home = filepath.Join(dir, "home")
	t.Setenv("PATH", bins.PathEnv())
	t.Setenv("RBEE_HOME", home)
	repo := filepath.Join(dir, "repo")
	require.NoError(t, os.MkdirAll(repo, 0o755))
	git := exec.Command("git", "init", "-q", "-b", "main", repo)
	out, err := git.CombinedOutput()
	require.NoError(t, err, "git is needed (make deps installs it): %s", out)
	pools := filepath.Join(dir, "pools.toml")
	require.NoError(t, os.WriteFile(pools, []byte(`
[[pool]]
name = "bench"
host = "localhost"
home = "`+filepath.Join(dir, "bench")+`"
repo = "`+repo+`"
`), 0o644))
	return map[string]string{"RBEE_POOLS": pools}, home
}

func runKeeper(env map[string]string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	a := newApp(&out, &errb, func(k string) string { return env[k] })
	code := a.run(args)
	return code, out.String(), errb.String()
}

func TestKeeperHelpEveryCommand(t *testing.T) {
	for _, c := range allCommands() {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runKeeper(nil, append(strings.Fields(c.name), "--help")...)
			assert.Equal(t, 0, code, stderr)
			assert.Contains(t, stdout, "Usage:\n  rbee-keeper "+c.name)
			assert.Contains(t, stdout, "Example:\n  rbee-keeper ")
			assert.Empty(t, stderr)
		})
	}
}

func TestKeeperCLI(t *testing.T) {
	register := func(id, host string) []string {
		return []string{"pool", "models", "register", id, "--name", "Model " + id, "--repo", "org/" + id, "--architecture", "llama", "--host", host}
	}
	tests := []struct {
		name    string
		setup   [][]string
		args    []string
		code    int
		stdout  string
		stderr  string
		jsonOut bool
	}{
		{name: "version", args: []string{"--version"}, stdout: "rbee-keeper 0.1.0"},
		{name: "no command", code: 2, stderr: "Usage:"},
		{name: "unknown", args: []string{"launch"}, code: 2, stderr: `error: unknown command "launch"`},
		{name: "pool alone", args: []string{"pool"}, code: 2, stderr: "pool models register"},
		{name: "pool help", args: []string{"pool", "models", "--help"}, stdout: "pool models catalog"},
		{name: "host required", args: []string{"pool", "status"}, code: 2, stderr: "--host is required"},
		{name: "status json", args: []string{"pool", "status", "--host", "localhost", "--json"}, jsonOut: true, stdout: `"pool_id"`},
		{name: "status text", args: []string{"pool", "status", "--host", "localhost"}, stdout: "backends"},
		{name: "register", args: register("a", "localhost"), stdout: "registered a"},
		{name: "register forwards hive errors", setup: [][]string{register("a", "localhost")}, args: register("a", "localhost"), code: 1, stderr: `error: model "a" is already registered`},
		{name: "hive usage error keeps exit 2", args: []string{"pool", "models", "register", "x", "--host", "localhost"}, code: 2, stderr: "--name is required"},
		{name: "catalog text", setup: [][]string{register("a", "localhost")}, args: []string{"pool", "models", "catalog", "--host", "localhost"}, stdout: "org/a"},
		{name: "catalog json", setup: [][]string{register("a", "localhost")}, args: []string{"pool", "models", "catalog", "--host", "localhost", "--json"}, jsonOut: true, stdout: `"id": "a"`},
		{name: "list", args: []string{"pool", "models", "list", "--host", "localhost"}, stdout: "no models downloaded"},
		{name: "pool from file uses its home", setup: [][]string{register("b", "bench")}, args: []string{"pool", "models", "catalog", "--host", "bench", "--json"}, jsonOut: true, stdout: `"id": "b"`},
		{name: "multi host text", setup: [][]string{register("a", "localhost"), register("b", "bench")}, args: []string{"pool", "models", "catalog", "--host", "localhost,bench"}, stdout: "[bench] b "},
		{name: "multi host json", args: []string{"pool", "status", "--host", "localhost,bench", "--json"}, jsonOut: true, stdout: `"host": "bench"`},
		// loopback port 1: refused at once, no DNS, no traffic off the machine
		{name: "ssh host refused", args: []string{"pool", "status", "--host", "127.0.0.1:1"}, code: 255, stderr: "cannot connect to 127.0.0.1:1"},
		{name: "ssh host passthrough exit 255", args: []string{"pool", "models", "unregister", "x", "--host", "127.0.0.1:1"}, code: 255, stderr: "cannot connect to 127.0.0.1:1"},
		{name: "bad host", args: []string{"pool", "status", "--host", "a;b"}, code: 255, stderr: `bad --host "a;b"`},
		{name: "missing pools file named explicitly", args: []string{"--pools", "/nonexistent/p.toml", "pool", "status", "--host", "localhost"}, code: 1, stderr: "pools file /nonexistent/p.toml"},
		{name: "git without repo", args: []string{"pool", "git", "status", "--host", "localhost"}, code: 1, stderr: "localhost: no repo for this pool"},
		{name: "git status", args: []string{"pool", "git", "status", "--host", "bench"}, stdout: "On branch"},
		{name: "git pull without upstream keeps git's exit code", args: []string{"pool", "git", "pull", "--host", "bench,bench"}, code: 1, stderr: "[bench] "},
		{name: "infer needs a worker", args: []string{"infer", "--prompt", "x"}, code: 2, stderr: "--worker is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := setup(t)
			for _, s := range tt.setup {
				code, _, stderr := runKeeper(env, s...)
				require.Equal(t, 0, code, stderr)
			}
			code, stdout, stderr := runKeeper(env, tt.args...)
			assert.Equal(t, tt.code, code, "stdout: %s\nstderr: %s", stdout, stderr)
			if tt.stdout == "" {
				assert.Empty(t, stdout)
			} else {
				assert.Contains(t, stdout, tt.stdout)
			}
			if tt.stderr == "" {
				assert.Empty(t, stderr)
			} else {
				assert.Contains(t, stderr, tt.stderr)
			}
			if tt.jsonOut {
				assert.True(t, json.Valid([]byte(stdout)), stdout)
			}
		})
	}
}

func TestSplitKeeperArgs(t *testing.T) {
	tests := []struct {
		in           []string
		mine, theirs []string
	}{
		{[]string{"x", "--name", "N", "--host", "h"}, []string{"--host", "h"}, []string{"x", "--name", "N"}},
		{[]string{"--host=h,i", "x", "--json", "--delete-files"}, []string{"--host=h,i", "--json"}, []string{"x", "--delete-files"}},
		{[]string{"--pools", "p.toml", "-h"}, []string{"--pools", "p.toml", "-h"}, nil},
		{[]string{"--host", "h", "--", "--host", "lit"}, []string{"--host", "h"}, []string{"--", "--host", "lit"}},
	}
	for _, tt := range tests {
		mine, theirs := splitKeeperArgs(tt.in)
		assert.Equal(t, tt.mine, mine, "%v", tt.in)
		assert.Equal(t, tt.theirs, theirs, "%v", tt.in)
	}
}
