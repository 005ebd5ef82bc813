package keeper_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/keeper"
)

func writePools(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pools.toml")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	return p
}

func TestLoadPools(t *testing.T) {
	full := `
[[pool]]
name = "mac"
host = "mac.lan"
port = 2222
user = "vince"
identity_file = "~/.ssh/id_ed25519"
hive_bin = "/opt/rbee/rbee-hive"
repo = "~/src/rbee-go"
backends = ["cpu", "metal"]
home = "/Users/vince/.rbee"

[[pool]]
name = "local"
host = "localhost"
`
	tests := []struct {
		name    string
		body    string
		want    int
		errText string
	}{
		{"full", full, 2, ""},
		{"empty", "", 0, ""},
		{"unknown key", "[[pool]]\nname = \"a\"\nhost = \"h\"\nhots = \"x\"\n", 0, "unknown key(s) pool.hots"},
		{"duplicate", "[[pool]]\nname = \"a\"\nhost = \"h\"\n[[pool]]\nname = \"a\"\nhost = \"i\"\n", 0, `pool "a" is defined twice`},
		{"no name", "[[pool]]\nhost = \"h\"\n", 0, "pool #1 has no name"},
		{"no host", "[[pool]]\nname = \"a\"\n", 0, `pool "a" has no host`},
		{"bad port", "[[pool]]\nname = \"a\"\nhost = \"h\"\nport = 70000\n", 0, "bad port 70000"},
		{"not toml", "[[pool]\nname=", 0, "pools file"},
		{"wrong type", "[[pool]]\nname = \"a\"\nhost = \"h\"\nport = \"22\"\n", 0, "pools file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writePools(t, tt.body)
			p, err := keeper.LoadPools(path, true)
			if tt.errText != "" {
				require.ErrorIs(t, err, keeper.ErrPoolsFile)
				assert.Contains(t, err.Error(), tt.errText)
				assert.Contains(t, err.Error(), path)
				return
			}
			require.NoError(t, err)
			assert.Len(t, p.Pools, tt.want)
		})
	}
	p, err := keeper.LoadPools(writePools(t, full), true)
	require.NoError(t, err)
	mac := p.Find("mac")
	require.NotNil(t, mac)
	assert.Equal(t, keeper.Pool{Name: "mac", Host: "mac.lan", Port: 2222, User: "vince", IdentityFile: "~/.ssh/id_ed25519",
		HiveBin: "/opt/rbee/rbee-hive", Repo: "~/src/rbee-go", Backends: []string{"cpu", "metal"}, Home: "/Users/vince/.rbee"}, *mac)
	assert.Nil(t, p.Find("nope"))
}

func TestLoadPoolsMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.toml")
	p, err := keeper.LoadPools(missing, false)
	require.NoError(t, err, "the default file may be absent")
	assert.Empty(t, p.Pools)
	_, err = keeper.LoadPools(missing, true)
	assert.ErrorIs(t, err, keeper.ErrPoolsFile, "a file named explicitly must exist")
}

func TestDefaultPoolsPath(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	u, err := os.UserHomeDir()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(u, ".config", "rbee", "pools.toml"), keeper.DefaultPoolsPath(getenv))
	env["RBEE_POOLS"] = "/etc/rbee/pools.toml"
	assert.Equal(t, "/etc/rbee/pools.toml", keeper.DefaultPoolsPath(getenv))
}

func TestResolve(t *testing.T) {
	pools := &keeper.Pools{Pools: []keeper.Pool{
		{Name: "mac", Host: "mac.lan", Port: 2222, User: "vince", Home: "/Users/vince/.rbee", HiveBin: "/opt/rbee-hive"},
		{Name: "here", Host: "localhost", Home: "/srv/rbee"},
		{Name: "loopback-ssh", Host: "localhost", Port: 2200},
	}}
	tests := []struct {
		spec string
		want keeper.Target
		err  bool
	}{
		{"localhost", keeper.Target{Spec: "localhost", Local: true, Host: "localhost"}, false},
		{"here", keeper.Target{Spec: "here", Local: true, Host: "localhost", Home: "/srv/rbee"}, false},
		{"loopback-ssh", keeper.Target{Spec: "loopback-ssh", Host: "localhost", Port: 2200}, false},
		{"mac", keeper.Target{Spec: "mac", User: "vince", Host: "mac.lan", Port: 2222, Home: "/Users/vince/.rbee", HiveBin: "/opt/rbee-hive"}, false},
		{"gpu.lan", keeper.Target{Spec: "gpu.lan", Host: "gpu.lan"}, false},
		{"root@gpu.lan:2222", keeper.Target{Spec: "root@gpu.lan:2222", User: "root", Host: "gpu.lan", Port: 2222}, false},
		{"[::1]:22", keeper.Target{Spec: "[::1]:22", Host: "::1", Port: 22}, false},
		{"[fe80::1]", keeper.Target{Spec: "[fe80::1]", Host: "fe80::1"}, false},
		{"host:99999", keeper.Target{}, true},
		{"host:ssh", keeper.Target{}, true},
		{"user@", keeper.Target{}, true},
		{"a;b", keeper.Target{}, true},
		{"a b", keeper.Target{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := pools.Resolve(tt.spec)
			if tt.err {
				require.ErrorIs(t, err, keeper.ErrBadHost)
				return
			}
			require.NoError(t, err)
			got.Pool = nil
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestHiveArgs(t *testing.T) {
	assert.Equal(t, []string{"status"}, keeper.Target{}.HiveArgs([]string{"status"}))
	assert.Equal(t, []string{"--home", "/h", "status"}, keeper.Target{Home: "/h"}.HiveArgs([]string{"status"}))
}
