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

// buildAuth offers the agent's keys first, then every readable key file.
// x/crypto tries each method name once, so all signers go into one
// publickey method.
func (o Options) buildAuth(t Target) *authSet {
	a := &authSet{}
	var signers []ssh.Signer
	sock := o.AgentSocket
	if sock == "" {
		sock = os.Getenv("SSH_AUTH_SOCK")
	}
	if sock != "" && sock != "none" {
		if conn, err := net.Dial("unix", sock); err == nil {
			a.closers = append(a.closers, conn.Close)
			if s, err := agent.NewClient(conn).Signers(); err == nil {
				signers = append(signers, s...)
				a.tried = append(a.tried, fmt.Sprintf("agent (%d keys)", len(s)))
			} else {
				a.skipped = append(a.skipped, fmt.Sprintf("agent (%v)", err))
			}
		} else {
			a.skipped = append(a.skipped, fmt.Sprintf("agent at %s (%v)", sock, err))
		}
	}
	for _, path := range t.IdentityFiles {
		pem, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			a.skipped = append(a.skipped, fmt.Sprintf("%s (%v)", path, err))
			continue
		}
		s, err := ssh.ParsePrivateKey(pem)
		var pm *ssh.PassphraseMissingError
		switch {
		case errors.As(err, &pm):
			a.skipped = append(a.skipped, path+" (passphrase-protected; add it to the agent with ssh-add)")
			continue
		case err != nil:
			a.skipped = append(a.skipped, fmt.Sprintf("%s (%v)", path, err))
			continue
		}
		signers = append(signers, s)
		a.tried = append(a.tried, path)
	}
	a.method = ssh.PublicKeys(signers...)
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
