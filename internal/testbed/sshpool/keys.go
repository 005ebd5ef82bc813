package sshpool

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
)

// Key is an ed25519 key pair written in OpenSSH format (what ssh-keygen -t
// ed25519 writes; generated in-process to save a fork per key).
type Key struct {
	Path   string // private key file (0600); Path+".pub" holds the public key
	Public ssh.PublicKey
	Signer ssh.Signer
}

// NewKey generates a key pair into path and path.pub.
func NewKey(path, comment string) (*Key, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path+".pub", []byte(AuthorizedLine(sp, comment)), 0o644); err != nil {
		return nil, err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	return &Key{Path: path, Public: sp, Signer: signer}, nil
}

// AuthorizedLine is key in authorized_keys / .pub format.
func AuthorizedLine(k ssh.PublicKey, comment string) string {
	line := string(ssh.MarshalAuthorizedKey(k)) // ends in "\n"
	if comment != "" {
		line = line[:len(line)-1] + " " + comment + "\n"
	}
	return line
}
