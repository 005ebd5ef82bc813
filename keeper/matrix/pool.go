package matrix

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/rbee-go/rbee/internal/testbed/harness"
	"github.com/rbee-go/rbee/internal/testbed/sshpool"
	"github.com/rbee-go/rbee/keeper"
	"github.com/rbee-go/rbee/keeper/sshtransport"
	"github.com/rbee-go/rbee/testflags"
	"github.com/rbee-go/rbee/worker"
)

// PoolSpec is one pool of the run with the backends to test on it (the
// -pools entries DEST:BACKEND grouped by DEST, in the order given).
type PoolSpec struct {
	Dest     string
	Backends []string
}

// harnessName matches the private OpenSSH pools the run starts itself.
var harnessName = regexp.MustCompile(`^harness(-[0-9]+)?$`)

// IsHarness reports whether dest names a private loopback sshd pool.
func IsHarness(dest string) bool { return harnessName.MatchString(dest) }

// ParsePools parses -pools entries. A DEST listed with several backends is
// one pool whose backends run one after the other (one machine, one GPU).
func ParsePools(entries []string) ([]PoolSpec, error) {
	var out []PoolSpec
	for _, e := range entries {
		dest, backend, ok := testflags.SplitPool(e)
		if !ok {
			return nil, fmt.Errorf("-pools: %q is not DEST:BACKEND (e.g. localhost:cpu, harness:cpu, mac.home.arpa:metal)", e)
		}
		if !slices.Contains([]string{"cpu", "metal", "cuda"}, backend) {
			return nil, fmt.Errorf("-pools: %q: unknown backend %q (cpu, metal or cuda)", e, backend)
		}
		if strings.ContainsAny(dest, "/ \t") {
			return nil, fmt.Errorf("-pools: %q: bad destination %q", e, dest)
		}
		i := slices.IndexFunc(out, func(p PoolSpec) bool { return p.Dest == dest })
		if i < 0 {
			out = append(out, PoolSpec{Dest: dest})
			i = len(out) - 1
		}
		if !slices.Contains(out[i].Backends, backend) {
			out[i].Backends = append(out[i].Backends, backend)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-pools: no pool given (e.g. -pools=localhost:cpu)")
	}
	return out, nil
}

// Pool is a connected pool of the run.
type Pool struct {
	Name     string // DEST as given: subtest and table name
	Backends []string
	Kind     string // "localhost", "harness" or "remote"

	k    *keeper.Keeper
	host string // the keeper --host value
	// onThisMachine: worker pids can be checked here and ports picked here.
	onThisMachine bool
	// direct: workers are reached straight from here (a pool on this
	// machine without SSH); otherwise through the pool's SSH connection,
	// dialling the uri the worker reports (its own loopback) from the pool.
	direct bool
	// tempHome: the pool's RBEE_HOME belongs to this run, so every worker
	// found there at the end is ours to stop.
	tempHome bool
	dialer   *keeper.SSHDialer
	sshd     *sshpool.Pool
}

// Keeper returns the keeper driving the pool and the --host value to use.
func (p *Pool) Keeper() (*keeper.Keeper, string) { return p.k, p.host }

// poolEnv is what starting pools needs from the run.
type poolEnv struct {
	workDir string
	hub     string // HF_ENDPOINT for the pool's hive
	passHub bool   // pass hub to non-harness pools (it was chosen by the run, not the pool's default)
	tiny    bool   // only tiny and CI test models: localhost gets a private home
	testbed TestBed
	bins    func() (*harness.Bins, error)
	key     func() (*sshpool.Key, error)
}

func openPool(ctx context.Context, spec PoolSpec, env poolEnv) (*Pool, error) {
	p := &Pool{Name: spec.Dest, Backends: spec.Backends, host: spec.Dest}
	switch {
	case spec.Dest == keeper.LocalHost:
		return p, p.openLocal(env)
	case IsHarness(spec.Dest):
		return p, p.openHarness(ctx, env)
	default:
		return p, p.openRemote(env)
	}
}

// openLocal runs the freshly built rbee-hive on this machine.
func (p *Pool) openLocal(env poolEnv) error {
	p.Kind, p.onThisMachine, p.direct = "localhost", true, true
	bins, err := env.bins()
	if err != nil {
		return err
	}
	home := os.Getenv("RBEE_HOME")
	if env.tiny {
		// tiny test models never land in the operator's own catalog
		home, p.tempHome = filepath.Join(env.workDir, "localhost", "home"), true
	}
	vars := map[string]string{"PATH": bins.PathEnv(), "HF_ENDPOINT": env.hub}
	if home != "" {
		vars["RBEE_HOME"] = home
	}
	if p.tempHome {
		if err := env.testbed.apply(filepath.Dir(home), home, vars, vars["PATH"]); err != nil {
			return err
		}
	}
	p.k = &keeper.Keeper{
		Pools:    &keeper.Pools{Pools: []keeper.Pool{{Name: keeper.LocalHost, Host: keeper.LocalHost, HiveBin: bins.Path(harness.Hive)}}},
		LocalEnv: environ(vars),
	}
	return nil
}

// openHarness starts a private OpenSSH pool on loopback with the built
// binaries and reaches it over SSH like any pool.
func (p *Pool) openHarness(ctx context.Context, env poolEnv) error {
	p.Kind, p.onThisMachine, p.tempHome = "harness", true, true
	bins, err := env.bins()
	if err != nil {
		return err
	}
	key, err := env.key()
	if err != nil {
		return err
	}
	dir := filepath.Join(env.workDir, p.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// The pool's own HOME keeps the operator's dotfiles out of its sessions:
	// a login shell sourcing a slow ~/.bashrc (pyenv init: ~0.3 s) would
	// otherwise be paid on every hive command, and a PATH it prepends could
	// shadow the built binaries. The worker binary is named for the same
	// reason.
	userHome := filepath.Join(dir, "user")
	if err := os.MkdirAll(userHome, 0o755); err != nil {
		return err
	}
	vars := map[string]string{"HF_ENDPOINT": env.hub, "HOME": userHome, "RBEE_WORKER_BIN_CPU": bins.Path(harness.Worker)}
	if err := env.testbed.apply(dir, filepath.Join(dir, "home"), vars, bins.Dir+":/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"); err != nil {
		return err
	}
	p.sshd, err = sshpool.Start(ctx, sshpool.Options{Name: p.Name, Dir: dir, ClientKey: key, BinDir: bins.Dir, Env: vars})
	if err != nil {
		return fmt.Errorf("starting harness pool %s: %w", p.Name, err)
	}
	p.dialer = keeper.NewSSHDialer(sshtransport.Options{KnownHostsFile: p.sshd.KnownHosts, SSHConfigFile: "none",
		AgentSocket: "none", HomeDir: dir, LocalUser: p.sshd.User, ConnectTimeout: 10 * time.Second})
	p.k = &keeper.Keeper{
		Pools: &keeper.Pools{Pools: []keeper.Pool{{Name: p.Name, Host: p.sshd.Host, Port: p.sshd.Port,
			User: p.sshd.User, IdentityFile: key.Path, HiveBin: bins.Path(harness.Hive)}}},
		Remote: p.dialer,
	}
	return nil
}

// openRemote reaches a pool of the pools file or [user@]host[:port] with
// the operator's SSH settings and the pool's installed binaries.
func (p *Pool) openRemote(env poolEnv) error {
	p.Kind = "remote"
	path := keeper.DefaultPoolsPath(os.Getenv)
	pools, err := keeper.LoadPools(path, os.Getenv(keeper.EnvPools) != "")
	if err != nil {
		return err
	}
	var hubEnv []string
	localVars := map[string]string{}
	if env.passHub {
		hubEnv = []string{"HF_ENDPOINT=" + env.hub}
		localVars["HF_ENDPOINT"] = env.hub
	}
	// one connection per pool for the whole run: a cell runs about seven
	// hive commands, and a handshake each would be most of its overhead
	opts := sshtransport.Options{}
	p.dialer = keeper.NewSSHDialer(opts)
	p.dialer.Env = hubEnv // the pool's hive downloads from the run's hub
	p.k = &keeper.Keeper{Pools: pools, Remote: p.dialer, LocalEnv: environ(localVars)}
	t, err := pools.Resolve(p.Name)
	if err != nil {
		return err
	}
	if t.Local {
		p.onThisMachine, p.direct = true, true
		return nil
	}
	st, err := opts.Resolve(sshtransport.Destination{Name: t.Spec, Host: t.Host, Port: t.Port, User: t.User, IdentityFile: t.IdentityFile})
	if err != nil {
		return err
	}
	if u, err := url.Parse(env.hub); err == nil && isLoopback(u.Hostname()) && !isLoopback(st.HostName) {
		return fmt.Errorf("the hub %s is on this machine's loopback, which %s cannot reach\n"+
			"hint: pass -hub=http://HOST:PORT of a mirror the pool reaches (rbee-tinymodel --all DIR; rbee-hive hub serve DIR --addr 0.0.0.0:8088)",
			env.hub, p.Name)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Close stops what the pool started: its SSH connections and harness sshd.
func (p *Pool) Close() error {
	if p.dialer != nil {
		_ = p.dialer.Close()
	}
	if p.sshd != nil {
		return p.sshd.Stop()
	}
	return nil
}

// environ is this process's environment with vars replacing or adding
// entries; RBEE_HOME is dropped unless vars sets it.
func environ(vars map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := vars[k]; !ok && k != "RBEE_HOME" {
			env = append(env, kv)
		}
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// workerClient is the client of a worker the pool reported at uri. Over
// SSH the worker's own (loopback) uri is dialled from the pool through the
// pool's connection: workers never listen on the network.
func (p *Pool) workerClient(ctx context.Context, uri string) (*worker.Client, error) {
	if p.direct {
		return worker.NewClient(uri), nil
	}
	dial, err := p.k.WorkerDial(ctx, p.host)
	if err != nil {
		return nil, err
	}
	return worker.NewClient(uri, worker.WithDialer(dial)), nil
}

// freePort asks the kernel for a free loopback port: pools on this machine
// spawn workers at the same time, and distinct ephemeral ports keep them
// from racing for 8000.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
