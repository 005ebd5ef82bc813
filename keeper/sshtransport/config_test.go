package sshtransport_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/keeper/sshtransport"
)

func TestParseDestination(t *testing.T) {
	tests := []struct {
		in   string
		want sshtransport.Destination
		bad  bool
	}{
		{in: "gpu", want: sshtransport.Destination{Name: "gpu", Host: "gpu"}},
		{in: "vince@mac.home", want: sshtransport.Destination{Name: "vince@mac.home", Host: "mac.home", User: "vince"}},
		{in: "root@127.0.0.1:2222", want: sshtransport.Destination{Name: "root@127.0.0.1:2222", Host: "127.0.0.1", Port: 2222, User: "root"}},
		{in: "[::1]:22", want: sshtransport.Destination{Name: "[::1]:22", Host: "::1", Port: 22}},
		{in: "[fe80::1]", want: sshtransport.Destination{Name: "[fe80::1]", Host: "fe80::1"}},
		{in: "host:99999", bad: true},
		{in: "user@", bad: true},
		{in: "a b", bad: true},
	}
	for _, tt := range tests {
		got, err := sshtransport.ParseDestination(tt.in)
		if tt.bad {
			require.Error(t, err, tt.in)
			assert.True(t, errors.Is(err, sshtransport.ErrConfig), tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func writeFile(t *testing.T, path, body string) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	return path
}

func TestResolveUsesSSHConfigThenDefaults(t *testing.T) {
	home := t.TempDir()
	writeFile(t, filepath.Join(home, ".ssh", "config"), `
Host gpu
  HostName 10.0.0.7
  User vince
  Port 2200
  IdentityFile ~/.ssh/gpu_key
  ServerAliveInterval 2
  ServerAliveCountMax 4
  HashKnownHosts yes

Host *.lan
  User lan
`)
	o := sshtransport.Options{HomeDir: home, LocalUser: "me"}
	tests := []struct {
		name     string
		dest     sshtransport.Destination
		hostName string
		port     int
		user     string
		firstID  string
	}{
		{"config fills all", sshtransport.Destination{Host: "gpu"}, "10.0.0.7", 2200, "vince", filepath.Join(home, ".ssh", "gpu_key")},
		{"explicit wins", sshtransport.Destination{Host: "gpu", Port: 22, User: "root", IdentityFile: "/k"}, "10.0.0.7", 22, "root", "/k"},
		{"pattern match", sshtransport.Destination{Host: "box.lan"}, "box.lan", 22, "lan", filepath.Join(home, ".ssh", "id_ed25519")},
		{"defaults", sshtransport.Destination{Host: "other"}, "other", 22, "me", filepath.Join(home, ".ssh", "id_ed25519")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := o.Resolve(tt.dest)
			require.NoError(t, err)
			assert.Equal(t, tt.hostName, got.HostName)
			assert.Equal(t, tt.port, got.Port)
			assert.Equal(t, tt.user, got.User)
			require.NotEmpty(t, got.IdentityFiles)
			assert.Equal(t, tt.firstID, got.IdentityFiles[0])
			assert.Contains(t, got.IdentityFiles, filepath.Join(home, ".ssh", "id_rsa"))
		})
	}
	gpu, err := o.Resolve(sshtransport.Destination{Host: "gpu"})
	require.NoError(t, err)
	assert.Equal(t, 2*time.Second, gpu.KeepAlive)
	assert.Equal(t, 4, gpu.KeepAliveMax)
	assert.True(t, gpu.HashKnownHosts)
	assert.Equal(t, "10.0.0.7:2200", gpu.Addr())
}

func TestResolveConfigOverride(t *testing.T) {
	home := t.TempDir()
	writeFile(t, filepath.Join(home, ".ssh", "config"), "Host x\n  Port 1111\n")
	alt := writeFile(t, filepath.Join(t.TempDir(), "cfg"), "Host x\n  Port 3333\n")

	got, err := sshtransport.Options{HomeDir: home, SSHConfigFile: alt}.Resolve(sshtransport.Destination{Host: "x"})
	require.NoError(t, err)
	assert.Equal(t, 3333, got.Port)

	got, err = sshtransport.Options{HomeDir: home, SSHConfigFile: "none"}.Resolve(sshtransport.Destination{Host: "x"})
	require.NoError(t, err)
	assert.Equal(t, 22, got.Port)

	_, err = sshtransport.Options{HomeDir: home, SSHConfigFile: filepath.Join(home, "missing")}.Resolve(sshtransport.Destination{Host: "x"})
	assert.ErrorIs(t, err, sshtransport.ErrConfig, "an explicit config that is missing is an error")

	bad := writeFile(t, filepath.Join(t.TempDir(), "bad"), "Host x\n  Port nope\n")
	_, err = sshtransport.Options{HomeDir: home, SSHConfigFile: bad}.Resolve(sshtransport.Destination{Host: "x"})
	assert.ErrorIs(t, err, sshtransport.ErrConfig)
}

func TestResolveMissingUserConfigIsFine(t *testing.T) {
	got, err := sshtransport.Options{HomeDir: t.TempDir(), LocalUser: "me"}.Resolve(sshtransport.Destination{Host: "h"})
	require.NoError(t, err)
	assert.Equal(t, "h:22", got.Addr())
}

func TestParseDestinationBadPort(t *testing.T) {
	for in, port := range map[string]string{"host:99999": "99999", "u@host:ssh": "ssh", "[::1]:0": "0"} {
		_, err := sshtransport.ParseDestination(in)
		var pe *sshtransport.PortError
		require.ErrorAs(t, err, &pe, in)
		assert.Equal(t, port, pe.Port, in)
		assert.Equal(t, fmt.Sprintf("bad port %q", port), pe.Error(), in)
	}
	_, err := sshtransport.ParseDestination("a b")
	var pe *sshtransport.PortError
	assert.False(t, errors.As(err, &pe), "a bad host is not a port error")
}
