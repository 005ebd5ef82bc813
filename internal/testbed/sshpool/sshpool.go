// Package sshpool starts real OpenSSH sshd processes on loopback as test
// pools: each with its own port, host key, authorized client key, RBEE_HOME
// and the built binaries on PATH, so features and the matrix drive
// rbee-keeper over SSH exactly as an operator would. Optionally a pool runs
// in its own network namespace so a test can cut it off mid-command.
package sshpool

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHDPath is where Debian's openssh-server installs sshd (sshd must be run
// by absolute path: it re-executes itself).
const SSHDPath = "/usr/sbin/sshd"

// InstallHint is the message for a machine without sshd.
const InstallHint = "sshd not found at " + SSHDPath + ": install openssh-server (make deps)"

// Options configure one pool.
type Options struct {
	Name string // pool name, for logs and the directory name
	// Dir is the pool's private directory (host key, config, logs, home);
	// it must exist and is not removed by Stop.
	Dir string
	// ClientKey is authorized to log in (one key per test run is enough).
	ClientKey *Key
	// BinDir holds rbee-hive & co.; it is put first on the remote PATH.
	// Empty: the pool has no rbee binaries (for the "hive missing" case).
	BinDir string
	// Env is set for every remote command (sshd_config SetEnv), e.g.
	// RBEE_WORKER_BIN_CPU or HF_ENDPOINT. RBEE_HOME defaults to Dir/home,
	// HOME to Dir/user: like a separate machine, the pool does not share the
	// operator's dotfiles (a slow ~/.bashrc would be paid on every command,
	// and a PATH it prepends could shadow the built binaries).
	Env map[string]string
	// Netns runs sshd in a new network namespace reached over a veth pair
	// with link-local addresses (root + iproute2 only).
	Netns bool
}

// Pool is a running sshd.
type Pool struct {
	Name       string
	Dir        string
	Host       string // address sshd listens on
	Port       int
	User       string // remote login (the current user)
	Home       string // RBEE_HOME of remote commands
	HostKey    *Key
	KnownHosts string // known_hosts file holding this pool's host key
	Log        string // sshd's log file
	// Gateway (Netns only) is this machine's address on the pool's link:
	// a test server the pool must reach listens there.
	Gateway string

	cmd  *exec.Cmd
	ns   *netns
	mu   sync.Mutex
	done chan struct{}
}

// Addr is host:port.
func (p *Pool) Addr() string { return net.JoinHostPort(p.Host, strconv.Itoa(p.Port)) }

// Dest is the keeper destination user@host:port.
func (p *Pool) Dest() string { return p.User + "@" + p.Addr() }

// KnownHostsLine is this pool's known_hosts entry ([host]:port form).
func (p *Pool) KnownHostsLine() string {
	return knownhosts.Line([]string{knownhosts.Normalize(p.Addr())}, p.HostKey.Public)
}

// Available reports whether sshd is installed, with the install hint.
func Available() error {
	if _, err := os.Stat(SSHDPath); err != nil {
		return errors.New(InstallHint)
	}
	return nil
}

// Start generates the pool's host key and config and starts sshd -D,
// returning once it answers with an SSH banner. Call Stop when done.
func Start(ctx context.Context, o Options) (*Pool, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if o.ClientKey == nil || o.Dir == "" {
		return nil, errors.New("sshpool: Options.Dir and Options.ClientKey are required")
	}
	// privilege separation directory; missing on machines where sshd never ran
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return nil, fmt.Errorf("sshpool: creating /run/sshd: %w", err)
	}
	u, err := user.Current()
	if err != nil {
		return nil, err
	}
	p := &Pool{Name: o.Name, Dir: o.Dir, User: u.Username, Home: filepath.Join(o.Dir, "home"),
		KnownHosts: filepath.Join(o.Dir, "known_hosts"), Log: filepath.Join(o.Dir, "sshd.log")}
	if v, ok := o.Env["RBEE_HOME"]; ok {
		p.Home = v
	}
	for _, d := range []string{p.Home, filepath.Join(o.Dir, "user")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if p.HostKey, err = NewKey(filepath.Join(o.Dir, "ssh_host_ed25519_key"), "rbee-test-host-"+o.Name); err != nil {
		return nil, fmt.Errorf("sshpool: host key: %w", err)
	}
	if err := os.WriteFile(filepath.Join(o.Dir, "authorized_keys"), []byte(AuthorizedLine(o.ClientKey.Public, "rbee-test")), 0o600); err != nil {
		return nil, err
	}
	p.Host = "127.0.0.1"
	if o.Netns {
		if p.ns, err = newNetns(ctx); err != nil {
			return nil, err
		}
		p.Host, p.Gateway = p.ns.inner, p.ns.outer
	}
	// a free port can be taken between probe and bind: retry a few times
	for attempt := 0; attempt < 5; attempt++ {
		if p.Port, err = freePort(p.Host, p.ns); err != nil {
			break
		}
		if err = p.start(ctx, o); err == nil {
			break
		}
	}
	if err != nil {
		p.ns.remove()
		return nil, err
	}
	if err := os.WriteFile(p.KnownHosts, []byte(p.KnownHostsLine()+"\n"), 0o600); err != nil {
		_ = p.Stop()
		return nil, err
	}
	return p, nil
}

func (p *Pool) start(ctx context.Context, o Options) error {
	cfgPath := filepath.Join(p.Dir, "sshd_config")
	if err := os.WriteFile(cfgPath, []byte(p.config(o)), 0o600); err != nil {
		return err
	}
	logf, err := os.Create(p.Log)
	if err != nil {
		return err
	}
	defer logf.Close()
	// -r: no re-exec of sshd for every connection. That re-exec (fresh
	// ASLR per connection on a real server) costs ~5.5 ms of CPU per
	// connection here, on the cores the keeper and the other test pools
	// share; a real pool pays it on its own. OpenSSH ≥ 9.8 ignores -r.
	args := []string{"-D", "-e", "-r", "-f", cfgPath}
	var cmd *exec.Cmd
	if p.ns != nil {
		ip, err := ipPath()
		if err != nil {
			return err
		}
		cmd = exec.Command(ip, append([]string{"netns", "exec", p.ns.name, SSHDPath}, args...)...)
	} else {
		cmd = exec.Command(SSHDPath, args...)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	// own process group: Stop kills the listener and its per-connection children
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("sshpool: starting sshd: %w", err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(p.done) }()
	if err := p.waitBanner(ctx, 10*time.Second); err != nil {
		_ = p.kill()
		return err
	}
	return nil
}

// config renders sshd_config. SetEnv (OpenSSH ≥ 8.7) gives every remote
// command the pool's PATH and RBEE_HOME without touching the user's
// dotfiles.
func (p *Pool) config(o Options) string {
	path := "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
	if o.BinDir != "" {
		path = o.BinDir + ":" + path
	}
	env := map[string]string{"PATH": path, "RBEE_HOME": p.Home, "HOME": filepath.Join(p.Dir, "user")}
	for k, v := range o.Env {
		env[k] = v
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var setenv []string
	for _, k := range keys {
		setenv = append(setenv, strconv.Quote(k+"="+env[k]))
	}
	return strings.Join([]string{
		"ListenAddress " + p.Host,
		"Port " + strconv.Itoa(p.Port),
		"HostKey " + p.HostKey.Path,
		"AuthorizedKeysFile " + filepath.Join(p.Dir, "authorized_keys"),
		"PidFile " + filepath.Join(p.Dir, "sshd.pid"),
		"StrictModes no",
		"UsePAM no",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PubkeyAuthentication yes",
		"PermitRootLogin prohibit-password",
		"UseDNS no",
		"PrintMotd no",
		"PrintLastLog no",
		"MaxStartups 100:30:200",
		"MaxSessions 100",
		// a client cut off mid-command (netns tests) ends its session soon
		"ClientAliveInterval 2",
		"ClientAliveCountMax 3",
		"LogLevel VERBOSE",
		"SetEnv " + strings.Join(setenv, " "),
		"",
	}, "\n")
}

// waitBanner waits until sshd answers with its identification string.
func (p *Pool) waitBanner(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("sshpool: sshd for %s exited at start: %s", p.Name, tail(p.Log))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		c, err := net.DialTimeout("tcp", p.Addr(), time.Second)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "SSH-") {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("sshpool: sshd for %s did not answer on %s within %s: %s", p.Name, p.Addr(), limit, tail(p.Log))
}

// Stop kills sshd (and its connection processes), waits for it and removes
// the network namespace if any. Safe to call twice.
func (p *Pool) Stop() error {
	err := p.kill()
	p.ns.remove()
	return err
}

func (p *Pool) kill() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return nil
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	p.cmd = nil
	p.reapSessions()
	return nil
}

// freePort asks the kernel for a free port on host.
func freePort(host string, ns *netns) (int, error) {
	if ns != nil {
		// inside the namespace nothing else listens: any fixed port is free
		return 2222, nil
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the last lines of a log file for error messages.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}
