package sshtransport

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// hostKeys checks server host keys against the user's known_hosts file
// (and, unless a file was named explicitly, the system-wide one, read-only)
// and, when allowed, records unknown hosts in the user's file. Safe for
// concurrent fan-out.
type hostKeys struct {
	file      string   // the user's file: checked and appended to
	global    []string // also checked, never written
	acceptNew bool
	mu        sync.Mutex // serialises reload + append across hosts
}

// files names the checked files for messages.
func (h *hostKeys) files() string {
	if len(h.global) == 0 {
		return h.file
	}
	return h.file + " (nor " + strings.Join(h.global, ", ") + ")"
}

// GlobalKnownHosts is OpenSSH's system-wide known hosts file.
const GlobalKnownHosts = "/etc/ssh/ssh_known_hosts"

// db reads the known_hosts files afresh (so a key appended for one host is
// seen by the next); missing files are empty.
func (h *hostKeys) db() (ssh.HostKeyCallback, error) {
	var files []string
	for _, f := range append([]string{h.file}, h.global...) {
		if _, err := os.Stat(f); !errors.Is(err, fs.ErrNotExist) {
			files = append(files, f)
		}
	}
	cb, err := knownhosts.New(files...)
	if err != nil {
		return nil, fmt.Errorf("known_hosts: %w", err)
	}
	return cb, nil
}

// hostKeyAlgorithms puts the algorithms of the keys known_hosts has for
// addr first, then the other supported ones: the server then presents a key
// we can verify (as OpenSSH orders them) instead of one of another type that
// would look "changed". nil (the default order) when the host is unknown.
func (h *hostKeys) hostKeyAlgorithms(addr string) []string {
	known := h.knownAlgorithms(addr)
	if len(known) == 0 {
		return nil
	}
	for _, a := range ssh.SupportedAlgorithms().HostKeys {
		if !slices.Contains(known, a) {
			known = append(known, a)
		}
	}
	return known
}

// knownAlgorithms lists the host key algorithms known_hosts has for addr.
func (h *hostKeys) knownAlgorithms(addr string) []string {
	cb, err := h.db()
	if err != nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if err := cb(addr, probeAddr, probeKey{}); !errors.As(err, &ke) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	for _, k := range ke.Want {
		for _, a := range algorithmsForKeyType(k.Key.Type()) {
			if !seen[a] {
				seen[a] = true
				algos = append(algos, a)
			}
		}
	}
	return algos
}

func algorithmsForKeyType(t string) []string {
	switch t {
	case ssh.KeyAlgoRSA:
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	case ssh.CertAlgoRSAv01:
		return []string{ssh.CertAlgoRSASHA512v01, ssh.CertAlgoRSASHA256v01, ssh.CertAlgoRSAv01}
	}
	return []string{t}
}

// callback returns the HostKeyCallback for target t.
func (h *hostKeys) callback(t Target) ssh.HostKeyCallback {
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		cb, err := h.db()
		if err != nil {
			return newError(CodeConfig, t.Name, "", err, "%v", err)
		}
		err = cb(hostname, remote, key)
		var ke *knownhosts.KeyError
		var re *knownhosts.RevokedError
		fp := ssh.FingerprintSHA256(key)
		switch {
		case err == nil:
			return nil
		case errors.As(err, &re):
			return newError(CodeHostKeyRevoked, t.Name, "", err,
				"host key for %s (%s %s) is marked @revoked in %s:%d", t.Name, key.Type(), fp, re.Revoked.Filename, re.Revoked.Line)
		case errors.As(err, &ke) && len(ke.Want) > 0:
			w := ke.Want[0]
			return newError(CodeHostKeyChanged, t.Name,
				fmt.Sprintf("if the pool was reinstalled, remove the old entry (ssh-keygen -R %s -f %s) and connect again", knownhosts.Normalize(hostname), h.file),
				err, "host key changed for %s: server sent %s %s, but %s:%d has %s %s — refusing to connect (possible man-in-the-middle)",
				t.Name, key.Type(), fp, w.Filename, w.Line, w.Key.Type(), ssh.FingerprintSHA256(w.Key))
		case errors.As(err, &ke):
			if !h.acceptNew {
				return newError(CodeHostKeyUnknown, t.Name,
					"check the fingerprint, then run again with --accept-new-host-key to record it", err,
					"unknown host key for %s: %s %s is not in %s", t.Name, key.Type(), fp, h.files())
			}
			if err := h.appendKey(hostname, remote, key, t.HashKnownHosts); err != nil {
				return newError(CodeConfig, t.Name, "", err, "recording host key for %s: %v", t.Name, err)
			}
			return nil
		default:
			return newError(CodeConfig, t.Name, "", err, "checking host key for %s: %v", t.Name, err)
		}
	}
}

// appendKey records key for hostname (host or [host]:port form) in
// known_hosts, creating the file and ~/.ssh-style directory if needed.
func (h *hostKeys) appendKey(hostname string, _ net.Addr, key ssh.PublicKey, hashed bool) error {
	host := knownhosts.Normalize(hostname)
	if hashed {
		host = knownhosts.HashHostname(host)
	}
	if err := os.MkdirAll(filepath.Dir(h.file), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(h.file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	line := knownhosts.Line([]string{host}, key)
	if _, err := fmt.Fprintln(f, line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// probeAddr is the remote address given with a probe; the hostname is
// what knownhosts matches, so no DNS lookup is needed.
var probeAddr net.Addr = &net.TCPAddr{IP: net.IPv4zero, Port: 22}

// probeKey is a key no known_hosts line can match; checking it yields the
// KeyError listing every known key for a host.
type probeKey struct{}

func (probeKey) Type() string                        { return "rbee-probe" }
func (probeKey) Marshal() []byte                     { return []byte("rbee-probe") }
func (probeKey) Verify([]byte, *ssh.Signature) error { return errors.New("probe key") }
