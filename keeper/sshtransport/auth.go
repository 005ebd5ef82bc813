package sshtransport

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// authSet is the public-key method for one target plus a description of
// what it offers, for the "methods tried" part of an authentication error.
type authSet struct {
	method  ssh.AuthMethod
	tried   []string // e.g. "agent (2 keys)", "/root/.ssh/id_ed25519"
	skipped []string // e.g. "/root/.ssh/id_rsa (passphrase-protected, not in agent)"
	closers []func() error
}

func (a *authSet) close() {
	for _, c := range a.closers {
		_ = c()
	}
}

// buildAuth offers the agent's keys first, then every readable key file
// (with IdentitiesOnly, only agent keys that match one of the files, as
// OpenSSH does). x/crypto tries each method name once, so all signers go
// into one publickey method.
func (o Options) buildAuth(t Target) *authSet {
	a := &authSet{}
	var fileSigners []ssh.Signer
	var fileTried []string
	known := map[string]bool{} // public keys of the identity files
	for _, path := range t.IdentityFiles {
		pem, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			a.skipped = append(a.skipped, fmt.Sprintf("%s (%v)", path, err))
			continue
		}
		if pub, err := os.ReadFile(path + ".pub"); err == nil {
			if k, _, _, _, err := ssh.ParseAuthorizedKey(pub); err == nil {
				known[string(k.Marshal())] = true
			}
		}
		s, err := ssh.ParsePrivateKey(pem)
		var pm *ssh.PassphraseMissingError
		switch {
		case errors.As(err, &pm):
			if pm.PublicKey != nil {
				known[string(pm.PublicKey.Marshal())] = true
			}
			a.skipped = append(a.skipped, path+" (passphrase-protected; add it to the agent with ssh-add)")
			continue
		case err != nil:
			a.skipped = append(a.skipped, fmt.Sprintf("%s (%v)", path, err))
			continue
		}
		known[string(s.PublicKey().Marshal())] = true
		fileSigners = append(fileSigners, s)
		fileTried = append(fileTried, path)
	}
	var signers []ssh.Signer
	sock := o.AgentSocket
	if sock == "" {
		sock = os.Getenv("SSH_AUTH_SOCK")
	}
	if sock != "" && sock != "none" {
		if conn, err := net.Dial("unix", sock); err == nil {
			a.closers = append(a.closers, conn.Close)
			if all, err := agent.NewClient(conn).Signers(); err == nil {
				for _, s := range all {
					if !t.IdentitiesOnly || known[string(s.PublicKey().Marshal())] {
						signers = append(signers, s)
					}
				}
				a.tried = append(a.tried, fmt.Sprintf("agent (%d of %d keys)", len(signers), len(all)))
			} else {
				a.skipped = append(a.skipped, fmt.Sprintf("agent (%v)", err))
			}
		} else {
			a.skipped = append(a.skipped, fmt.Sprintf("agent at %s (%v)", sock, err))
		}
	}
	a.method = ssh.PublicKeys(append(signers, fileSigners...)...)
	a.tried = append(a.tried, fileTried...)
	return a
}

// describe renders what was offered, for error messages.
func (a *authSet) describe() string {
	s := "publickey: "
	if len(a.tried) == 0 {
		s += "no keys found"
	} else {
		s += strings.Join(a.tried, ", ")
	}
	if len(a.skipped) > 0 {
		s += "; skipped " + strings.Join(a.skipped, ", ")
	}
	return s
}
