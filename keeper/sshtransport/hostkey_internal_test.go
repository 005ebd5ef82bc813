package sshtransport

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func newPub(t *testing.T) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	k, err := ssh.NewPublicKey(pub)
	require.NoError(t, err)
	return k
}

// The system-wide file is consulted (read-only) besides the user's.
func TestGlobalKnownHosts(t *testing.T) {
	dir := t.TempDir()
	key, other := newPub(t), newPub(t)
	global := filepath.Join(dir, "ssh_known_hosts")
	require.NoError(t, os.WriteFile(global, []byte(knownhosts.Line([]string{"pool.lan"}, key)+"\n"), 0o644))
	h := &hostKeys{file: filepath.Join(dir, "user_known_hosts"), global: []string{global}}
	cb := h.callback(Target{Name: "pool", HostName: "pool.lan", Port: 22})
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 22}

	require.NoError(t, cb("pool.lan:22", remote, key))
	err := cb("pool.lan:22", remote, other)
	require.True(t, errors.Is(err, ErrHostKeyChanged), "%v", err)
	assert.Contains(t, err.Error(), global+":1")
	assert.NoFileExists(t, h.file, "nothing written to the user's file")
	assert.Equal(t, []string{ssh.KeyAlgoED25519}, h.knownAlgorithms("pool.lan:22"))
}
