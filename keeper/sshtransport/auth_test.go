package sshtransport_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/rbee-go/rbee/internal/testbed/sshpool"
	"github.com/rbee-go/rbee/keeper/sshtransport"
)

// serveAgent runs an in-process ssh-agent holding keys on a unix socket.
func serveAgent(t *testing.T, keys ...*sshpool.Key) string {
	t.Helper()
	kr := agent.NewKeyring()
	for _, key := range keys {
		pem, err := os.ReadFile(key.Path)
		require.NoError(t, err)
		raw, err := ssh.ParseRawPrivateKey(pem)
		require.NoError(t, err)
		require.NoError(t, kr.Add(agent.AddedKey{PrivateKey: raw}))
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _ = agent.ServeAgent(kr, c); c.Close() }()
		}
	}()
	return sock
}

func TestAgentAuthentication(t *testing.T) {
	e := newEnv(t)
	o := e.opts
	o.AgentSocket = serveAgent(t, e.key)
	d := e.dest
	d.IdentityFile = "" // no key file at all: only the agent can log in
	tg, err := o.Resolve(d)
	require.NoError(t, err)
	c, err := sshtransport.NewDialer(o).Dial(context.Background(), tg)
	require.NoError(t, err)
	c.Close()

	o.AgentSocket = "none"
	_, err = sshtransport.NewDialer(o).Dial(context.Background(), tg)
	require.ErrorIs(t, err, sshtransport.ErrAuth)
	assert.Contains(t, err.Error(), "no keys found")
}

// IdentitiesOnly: an agent full of other keys offers only the identity
// file's; the file itself may be passphrase-protected (the agent signs).
func TestIdentitiesOnlyFiltersAgentKeys(t *testing.T) {
	e := newEnv(t)
	other := sshpool.ClientKeyT(t)
	o := e.opts
	o.AgentSocket = serveAgent(t, e.key, other)
	// the identity file: only its public half here, as for a key whose
	// private file is protected (the .pub is what OpenSSH matches too)
	id := filepath.Join(t.TempDir(), "id")
	writeFile(t, id, "not a key")
	pub, err := os.ReadFile(e.key.Path + ".pub")
	require.NoError(t, err)
	writeFile(t, id+".pub", string(pub))
	o.SSHConfigFile = writeFile(t, filepath.Join(t.TempDir(), "cfg"), "Host *\n  IdentitiesOnly yes\n")
	d := e.dest
	d.IdentityFile = id
	tg, err := o.Resolve(d)
	require.NoError(t, err)
	assert.True(t, tg.IdentitiesOnly)
	c, err := sshtransport.NewDialer(o).Dial(context.Background(), tg)
	require.NoError(t, err)
	c.Close()

	// the agent's other key alone is not offered at all
	writeFile(t, id+".pub", sshpool.AuthorizedLine(other.Public, ""))
	_, err = sshtransport.NewDialer(o).Dial(context.Background(), tg)
	require.ErrorIs(t, err, sshtransport.ErrAuth)
	assert.Contains(t, err.Error(), "agent (1 of 2 keys)")
}

// The ssh config alone says where the pool is and which key logs in.
func TestSSHConfigAliasEndToEnd(t *testing.T) {
	e := newEnv(t)
	o := e.opts
	o.SSHConfigFile = writeFile(t, filepath.Join(t.TempDir(), "config"), fmt.Sprintf(
		"Host gpu-box\n  HostName %s\n  Port %d\n  User %s\n  IdentityFile %s\n", e.pool.Host, e.pool.Port, e.pool.User, e.key.Path))
	d, err := sshtransport.ParseDestination("gpu-box")
	require.NoError(t, err)
	tg, err := o.Resolve(d)
	require.NoError(t, err)
	c, err := sshtransport.NewDialer(o).Dial(context.Background(), tg)
	require.NoError(t, err)
	defer c.Close()
	code, err := c.Run(context.Background(), sshtransport.Command{Argv: []string{"true"}})
	require.NoError(t, err)
	assert.Equal(t, 0, code)
	rtt, err := c.Ping(context.Background())
	require.NoError(t, err)
	assert.Greater(t, rtt, time.Duration(0))
}

// known_hosts listing another key type for the host as well: the handshake
// asks for the known types first, so the ed25519 entry verifies; with only
// the other type known, the key is reported changed, naming both types.
func TestHostKeyOfAnotherTypeKnown(t *testing.T) {
	e := newEnv(t)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ecPub, err := ssh.NewPublicKey(&ec.PublicKey)
	require.NoError(t, err)
	ecLine := knownhosts.Line([]string{knownhosts.Normalize(e.pool.Addr())}, ecPub)

	o := e.opts
	o.KnownHostsFile = writeFile(t, filepath.Join(t.TempDir(), "kh"), ecLine+"\n"+e.pool.KnownHostsLine()+"\n")
	_, err = e.dial(t, o)
	require.NoError(t, err)

	o.KnownHostsFile = writeFile(t, filepath.Join(t.TempDir(), "kh"), ecLine+"\n")
	_, err = e.dial(t, o)
	require.ErrorIs(t, err, sshtransport.ErrHostKeyChanged)
	assert.Contains(t, err.Error(), "ecdsa-sha2-nistp256")
	assert.Contains(t, err.Error(), "ssh-ed25519")
}
