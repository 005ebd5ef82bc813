package keeper_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/keeper"
)

func TestGitCommand(t *testing.T) {
	tests := []struct {
		sub  string
		want []string
	}{
		{"pull", []string{"git", "pull"}},
		{"status", []string{"git", "status"}},
		{"build", []string{"go", "install", "./..."}},
		{"push", nil},
	}
	for _, tt := range tests {
		got, err := keeper.GitCommand(tt.sub)
		assert.Equal(t, tt.want, got)
		assert.Equal(t, tt.want == nil, err != nil)
	}
}

func TestGit(t *testing.T) {
	repo := t.TempDir()
	out, err := exec.Command("git", "init", "-q", "-b", "main", repo).CombinedOutput()
	require.NoError(t, err, "git is needed (make deps installs it): %s", out)
	require.NoError(t, os.WriteFile(filepath.Join(repo, "new.txt"), nil, 0o644))
	k := &keeper.Keeper{Pools: &keeper.Pools{Pools: []keeper.Pool{
		{Name: "p", Host: "localhost", Repo: repo},
		{Name: "norepo", Host: "localhost"},
		{Name: "far", Host: "far.lan", Repo: "~/rbee"},
	}}}
	tests := []struct {
		host, sub string
		code      int
		out       string
		errCode   keeper.Code
	}{
		{"p", "status", 0, "new.txt", ""},
		{"p", "pull", 1, "", ""}, // no upstream: git's own exit code
		{"p", "bogus", 2, "", ""},
		{"norepo", "status", 1, "", keeper.CodeNoRepo},
		{"far", "status", keeper.ExitTransport, "", keeper.CodeSSHUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.host+" "+tt.sub, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			r := k.Git(context.Background(), tt.host, tt.sub, keeper.Streams{Stdout: &stdout, Stderr: &stderr})
			assert.Equal(t, tt.code, r.ExitCode, "%v %s", r.Err, stderr.String())
			assert.Contains(t, stdout.String(), tt.out)
			assert.Equal(t, tt.errCode, keeper.CodeOf(r.Err))
		})
	}
}
