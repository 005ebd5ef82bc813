package sshpool

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// StartT starts a pool for a test (Dir defaults to a t.TempDir) and stops it
// in t.Cleanup; a machine without sshd fails the test with the install hint.
func StartT(t testing.TB, o Options) *Pool {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.ClientKey == nil {
		o.ClientKey = ClientKeyT(t)
	}
	p, err := Start(context.Background(), o)
	if err != nil {
		t.Fatalf("sshpool: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Errorf("sshpool: stopping %s: %v", p.Name, err)
		}
	})
	return p
}

// ClientKeyT generates a client key in a test temp dir.
func ClientKeyT(t testing.TB) *Key {
	t.Helper()
	k, err := NewKey(filepath.Join(t.TempDir(), "id_ed25519"), "rbee-test-client")
	if err != nil {
		t.Fatalf("sshpool: client key: %v", err)
	}
	return k
}

// WriteKnownHosts writes one known_hosts file trusting every pool.
func WriteKnownHosts(path string, pools ...*Pool) error {
	var b []byte
	for _, p := range pools {
		b = append(b, p.KnownHostsLine()+"\n"...)
	}
	return os.WriteFile(path, b, 0o600)
}
