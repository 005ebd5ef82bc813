package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/catalog"
)

// runCLI runs rbee-hive in-process with RBEE_HOME=home.
func runCLI(t *testing.T, home string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := map[string]string{"RBEE_HOME": home}
	a := newApp(&out, &errb, func(k string) string { return env[k] })
	code = a.run(args)
	return code, out.String(), errb.String()
}

func TestCLI(t *testing.T) {
	register := []string{"models", "register", "tinyllama", "--name", "TinyLlama", "--repo", "TinyLlama/TinyLlama-1.1B-Chat-v1.0", "--architecture", "llama"}
	tests := []struct {
		name      string
		args      []string
		setup     [][]string
		code      int
		stdout    string // substring; "" = must be empty
		stderr    string // substring; "" = must be empty
		jsonOut   bool
		anyStdout bool
	}{
		{name: "version", args: []string{"--version"}, stdout: "rbee-hive 0.1.0"},
		{name: "version after command", args: []string{"status", "--version"}, stdout: "rbee-hive 0.1.0"},
		{name: "top help", args: []string{"--help"}, stdout: "models register"},
		{name: "help command", args: []string{"help", "models", "catalog"}, stdout: "rbee-hive models catalog --json"},
		{name: "no command", args: nil, code: 2, stderr: "Usage:"},
		{name: "unknown command", args: []string{"nope"}, code: 2, stderr: "error: unknown command \"nope\"\nhint: "},
		{name: "group without sub", args: []string{"models"}, code: 2, stderr: "error: models needs a sub-command"},
		{name: "group help", args: []string{"models", "--help"}, stdout: "unregister"},
		{name: "unknown sub", args: []string{"models", "frob"}, code: 2, stderr: `unknown command "models frob"`},
		{name: "bad flag", args: []string{"status", "--bogus"}, code: 2, stderr: "error: unknown flag: --bogus"},
		{name: "extra arg", args: []string{"status", "x"}, code: 2, stderr: "status takes 0 argument(s), got 1"},
		{name: "register help", args: []string{"models", "register", "-h"}, stdout: "Example:\n  rbee-hive models register qwen-0.5b"},
		{name: "register", args: register, stdout: "registered tinyllama"},
		{name: "register json", args: append(append([]string{}, register...), "--json"), jsonOut: true, stdout: `"id": "tinyllama"`},
		{name: "register missing name", args: []string{"models", "register", "x", "--repo", "o/n", "--architecture", "a"}, code: 2, stderr: "--name is required"},
		{name: "register bad backend", args: []string{"models", "register", "x", "--name", "X", "--repo", "o/n", "--architecture", "a", "--backends", "cpu,tpu"}, code: 1, stderr: `error: unknown backend "tpu"`},
		{name: "register duplicate", setup: [][]string{register}, args: register, code: 1, stderr: `error: model "tinyllama" is already registered` + "\nhint: unregister it first"},
		{name: "unregister unknown", args: []string{"models", "unregister", "nope"}, code: 1, stderr: `model "nope" is not in the catalog`},
		{name: "unregister", setup: [][]string{register}, args: []string{"models", "unregister", "tinyllama", "--delete-files"}, stdout: "unregistered tinyllama\ndeleted "},
		{name: "catalog empty", args: []string{"models", "catalog"}, stdout: "no models registered"},
		{name: "catalog table", setup: [][]string{register}, args: []string{"models", "catalog", "--no-color"}, stdout: "tinyllama  TinyLlama"},
		{name: "catalog json", setup: [][]string{register}, args: []string{"--json", "models", "catalog"}, jsonOut: true, stdout: `"pool_id"`},
		{name: "list json", setup: [][]string{register}, args: []string{"models", "list", "--json"}, jsonOut: true, stdout: "[]"},
		{name: "list text", args: []string{"models", "list"}, stdout: "no models downloaded"},
		{name: "status json", args: []string{"status", "--json"}, jsonOut: true, stdout: `"backends"`},
		{name: "status text", args: []string{"status"}, stdout: "workers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := filepath.Join(t.TempDir(), "home")
			for _, s := range tt.setup {
				code, _, stderr := runCLI(t, home, s...)
				require.Equal(t, 0, code, stderr)
			}
			code, stdout, stderr := runCLI(t, home, tt.args...)
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
				assert.True(t, strings.HasPrefix(stderr, "error: ") || strings.HasPrefix(stderr, "rbee-hive runs"), stderr)
			}
			if tt.jsonOut {
				assert.True(t, json.Valid([]byte(stdout)), "stdout must be JSON only: %s", stdout)
			}
		})
	}
}

func TestCLIGlobalFlagsAnywhere(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	code, _, stderr := runCLI(t, a, "--home", b, "models", "register", "x", "--name", "X", "--repo", "o/x", "--architecture", "llama")
	require.Equal(t, 0, code, stderr)
	code, _, stderr = runCLI(t, a, "models", "register", "y", "--home", b, "--name", "Y", "--repo", "o/y", "--architecture", "llama")
	require.Equal(t, 0, code, stderr)
	assert.NoDirExists(t, a, "RBEE_HOME loses to --home")
	c, err := catalog.ForHome(b).Load(t.Context())
	require.NoError(t, err)
	assert.Len(t, c.Models, 2)
}

func TestCLIRelativeHomeIsMadeAbsolute(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	code, stdout, stderr := runCLI(t, "rel", "models", "register", "x", "--name", "X", "--repo", "o/x", "--architecture", "llama", "--json")
	require.Equal(t, 0, code, stderr)
	var m catalog.Model
	require.NoError(t, json.Unmarshal([]byte(stdout), &m))
	want, err := filepath.EvalSymlinks(dir)
	require.NoError(t, err)
	got, err := filepath.EvalSymlinks(filepath.Dir(filepath.Dir(filepath.Dir(m.Path))))
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.True(t, filepath.IsAbs(m.Path))
	_, err = os.Stat(filepath.Join(dir, "rel", "models", "catalog.json"))
	require.NoError(t, err)
}

func TestCLIRegisterRevisionAndIncludes(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	code, _, stderr := runCLI(t, home, "models", "register", "phi3", "--name", "Phi-3", "--repo", "microsoft/Phi-3-mini-4k-instruct",
		"--architecture", "phi", "--backends", "cpu,cuda", "--revision", "v1.0", "--include", "*.safetensors", "--include", "tokenizer.json")
	require.Equal(t, 0, code, stderr)
	m, err := catalog.ForHome(home).Get(t.Context(), "phi3")
	require.NoError(t, err)
	assert.Equal(t, "v1.0", m.Metadata.Revision)
	assert.Equal(t, []string{"*.safetensors", "tokenizer.json"}, m.Metadata.Include)
	assert.Equal(t, []catalog.Backend{"cpu", "cuda"}, m.Backends)
}
