package sshtransport

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kevinburke/ssh_config"
)

// Options are the invocation-wide SSH settings (the keeper's flags).
type Options struct {
	// KnownHostsFile is checked and, with AcceptNewHostKey, appended to.
	// Default: <home>/.ssh/known_hosts, with /etc/ssh/ssh_known_hosts also
	// checked (read-only) as OpenSSH does.
	KnownHostsFile   string
	AcceptNewHostKey bool
	// ConnectTimeout covers the TCP connect and the SSH handshake
	// (including authentication). Default 10s.
	ConnectTimeout time.Duration
	// SSHConfigFile is the per-user OpenSSH client config; "none" reads no
	// file. Default: <home>/.ssh/config (a missing file is fine).
	SSHConfigFile string
	// HomeDir is the operator's home (default $HOME / os.UserHomeDir): the
	// base of ~/.ssh and of "~/" in IdentityFile.
	HomeDir string
	// AgentSocket overrides $SSH_AUTH_SOCK; "none" disables the agent.
	AgentSocket string
	// LocalUser is the default remote user (default $USER).
	LocalUser string
	// KeepAlive and KeepAliveMax, when set, override the ssh config's
	// ServerAliveInterval/CountMax (test pools notice a cut in seconds).
	KeepAlive    time.Duration
	KeepAliveMax int
}

// DefaultConnectTimeout is the --connect-timeout default.
const DefaultConnectTimeout = 10 * time.Second

func (o Options) home() string {
	if o.HomeDir != "" {
		return o.HomeDir
	}
	if h, err := os.UserHomeDir(); err == nil {
		return h
	}
	return "/"
}

func (o Options) timeout() time.Duration {
	if o.ConnectTimeout > 0 {
		return o.ConnectTimeout
	}
	return DefaultConnectTimeout
}

func (o Options) knownHosts() string {
	if o.KnownHostsFile != "" {
		return o.KnownHostsFile
	}
	return filepath.Join(o.home(), ".ssh", "known_hosts")
}

// Destination is what the operator or the pools file says about a host;
// empty fields are filled from ~/.ssh/config, then defaults.
type Destination struct {
	Name         string // shown in errors and output prefixes; default Host
	Host         string // host name or alias (matched against ssh config Host patterns)
	Port         int
	User         string
	IdentityFile string
}

// PortError is the cause of ParseDestination's error when the port is not a
// number 1-65535.
type PortError struct {
	Port string
	Err  error // why the port is not a number, if it is not
}

func (e *PortError) Error() string { return fmt.Sprintf("bad port %q", e.Port) }

func (e *PortError) Unwrap() error { return e.Err }

// ParseDestination parses "[user@]host[:port]" (IPv6 as "[addr]:port").
func ParseDestination(s string) (Destination, error) {
	d := Destination{Name: s}
	rest := s
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		d.User, rest = rest[:i], rest[i+1:]
	}
	d.Host = rest
	if h, p, err := net.SplitHostPort(rest); err == nil {
		port, perr := strconv.Atoi(p)
		if perr != nil || port < 1 || port > 65535 {
			return d, newError(CodeConfig, s, "", &PortError{Port: p, Err: perr}, "bad port %q in destination %q", p, s)
		}
		d.Host, d.Port = h, port
	} else if strings.HasPrefix(rest, "[") && strings.HasSuffix(rest, "]") {
		d.Host = rest[1 : len(rest)-1]
	}
	if d.Host == "" || strings.ContainsAny(d.Host, " \t/") {
		return d, newError(CodeConfig, s, "use [user@]host[:port] or a pool name from the pools file", nil,
			"bad destination %q", s)
	}
	return d, nil
}

// Target is a fully resolved destination.
type Target struct {
	Name          string
	HostName      string // what is dialled
	Port          int
	User          string
	IdentityFiles []string // in the order tried, after the agent
	// HashKnownHosts: new known_hosts entries are written hashed.
	HashKnownHosts bool
	// IdentitiesOnly: offer only the identity files' keys, also from the
	// agent (for agents holding more keys than sshd's MaxAuthTries).
	IdentitiesOnly bool
	// KeepAlive probes the server every KeepAlive (0 = off) and gives up
	// after KeepAliveMax unanswered probes (ServerAliveInterval/CountMax).
	KeepAlive    time.Duration
	KeepAliveMax int
}

// Addr is the host:port that is dialled.
func (t Target) Addr() string { return net.JoinHostPort(t.HostName, strconv.Itoa(t.Port)) }

// Default keepalive when ssh config sets none: a pool that vanishes
// mid-command is noticed within about 45s rather than never.
const (
	defaultKeepAlive    = 15 * time.Second
	defaultKeepAliveMax = 3
)

// Resolve fills d from the ssh config and defaults, as OpenSSH would: values
// given explicitly (pools file, user@host:port) win over ~/.ssh/config, which
// wins over defaults. The pool's IdentityFile is tried first, then the
// config's, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa.
func (o Options) Resolve(d Destination) (Target, error) {
	name := d.Name
	if name == "" {
		name = d.Host
	}
	cfg, err := o.loadConfig()
	if err != nil {
		return Target{}, newError(CodeConfig, name, "", err, "%v", err)
	}
	get := func(key string) string {
		if cfg == nil {
			return ""
		}
		v, _ := cfg.Get(d.Host, key)
		return v
	}
	t := Target{Name: name, HostName: d.Host, Port: d.Port, User: d.User}
	if hn := get("HostName"); hn != "" {
		t.HostName = strings.ReplaceAll(hn, "%h", d.Host)
	}
	if t.Port == 0 {
		if p := get("Port"); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return t, newError(CodeConfig, name, "", err, "ssh config: bad Port %q for %s", p, d.Host)
			}
			t.Port = n
		} else {
			t.Port = 22
		}
	}
	if t.User == "" {
		t.User = get("User")
	}
	if t.User == "" {
		t.User = o.LocalUser
	}
	if t.User == "" {
		t.User = os.Getenv("USER")
	}
	if t.User == "" {
		t.User = "root"
	}
	var ids []string
	if d.IdentityFile != "" {
		ids = append(ids, d.IdentityFile)
	}
	if cfg != nil {
		all, _ := cfg.GetAll(d.Host, "IdentityFile")
		ids = append(ids, all...)
	}
	for _, def := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
		ids = append(ids, filepath.Join("~", ".ssh", def))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		p := o.expandPath(id, t, d.Host)
		if !seen[p] {
			seen[p] = true
			t.IdentityFiles = append(t.IdentityFiles, p)
		}
	}
	t.HashKnownHosts = strings.EqualFold(get("HashKnownHosts"), "yes")
	t.IdentitiesOnly = strings.EqualFold(get("IdentitiesOnly"), "yes")
	t.KeepAlive, t.KeepAliveMax = defaultKeepAlive, defaultKeepAliveMax
	if v := get("ServerAliveInterval"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return t, newError(CodeConfig, name, "", err, "ssh config: bad ServerAliveInterval %q", v)
		}
		t.KeepAlive = time.Duration(n) * time.Second
	}
	if v := get("ServerAliveCountMax"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return t, newError(CodeConfig, name, "", err, "ssh config: bad ServerAliveCountMax %q", v)
		}
		t.KeepAliveMax = n
	}
	if o.KeepAlive > 0 {
		t.KeepAlive = o.KeepAlive
	}
	if o.KeepAliveMax > 0 {
		t.KeepAliveMax = o.KeepAliveMax
	}
	return t, nil
}

// loadConfig parses the per-user ssh config; nil when there is none.
func (o Options) loadConfig() (*ssh_config.Config, error) {
	path := o.SSHConfigFile
	if path == "none" {
		return nil, nil
	}
	if path == "" {
		path = filepath.Join(o.home(), ".ssh", "config")
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && o.SSHConfigFile == "" {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ssh config: %w", err)
	}
	defer f.Close()
	cfg, err := ssh_config.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("ssh config %s: %w", path, err)
	}
	return cfg, nil
}

// expandPath expands "~" and the common % tokens of IdentityFile.
func (o Options) expandPath(p string, t Target, alias string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		p = filepath.Join(o.home(), p[1:])
	}
	local := o.LocalUser
	if local == "" {
		local = os.Getenv("USER")
	}
	r := strings.NewReplacer("%d", o.home(), "%u", local, "%r", t.User, "%h", t.HostName, "%n", alias, "%%", "%")
	return r.Replace(p)
}
