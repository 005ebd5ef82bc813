package steps

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cucumber/godog"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/rbee-go/rbee/internal/testbed/sshpool"
)

// remote is the state of the SSH features: real sshd pools on loopback (or
// in a network namespace), the pools file and known_hosts that describe
// them, and a keeper command running in the background.
type remote struct {
	w       *World
	key     *sshpool.Key // the operator's key, authorized on every pool
	pools   map[string]*sshpool.Pool
	entries map[string]string // pools file entry per name
	marker  string            // file the shell-injection argument would create
	elapsed time.Duration     // of the last timed command

	bg background
}

// registerRemoteSteps: rbee-keeper over SSH (features/cp1_remote.feature).
func registerRemoteSteps(sc *godog.ScenarioContext, w *World) {
	r := &remote{w: w, pools: map[string]*sshpool.Pool{}, entries: map[string]string{}}
	sc.Step(`^an SSH pool "([^"]*)"$`, func(n string) error { return r.startPool(n, sshpool.Options{BinDir: w.Bins.Dir}) })
	sc.Step(`^an SSH pool "([^"]*)" without rbee-hive$`, func(n string) error { return r.startPool(n, sshpool.Options{}) })
	sc.Step(`^an SSH pool "([^"]*)" in its own network namespace$`, func(n string) error {
		if err := sshpool.NetnsAvailable(context.Background()); err != nil {
			return fmt.Errorf("this scenario needs root and iproute2 (network namespaces): %w", err)
		}
		return r.startPool(n, sshpool.Options{BinDir: w.Bins.Dir, Netns: true})
	})
	sc.Step(`^a pool "([^"]*)" that accepts connections but never answers$`, r.blackholePool)
	sc.Step(`^the operator's SSH config sets ServerAliveInterval (\d+) and ServerAliveCountMax (\d+)$`, r.sshConfig)
	sc.Step(`^the host key of pool "([^"]*)" changed$`, r.hostKeyChanged)
	sc.Step(`^the host key of pool "([^"]*)" is not known$`, r.hostKeyUnknown)
	sc.Step(`^the operator's key is not authorized on pool "([^"]*)"$`, r.keyNotAuthorized)
	sc.Step(`^the tiny model "([^"]*)" is registered and downloaded on pool "([^"]*)"$`, r.tinyModelOnPool)
	sc.Step(`^I run "(.*)" with HOSTILE replaced by a shell-injection argument$`, r.runHostile)
	sc.Step(`^no injected command ran$`, r.noInjection)
	sc.Step(`^the catalog of pool "([^"]*)" names "([^"]*)" with the shell-injection argument$`, r.catalogNamesHostile)
	sc.Step(`^stdout is the same JSON as "(.*)" run on pool "([^"]*)" itself$`, r.sameJSON)
	sc.Step(`^the JSON fields "([^"]*)" are the same as from "(.*)" run on pool "([^"]*)" itself$`, r.sameFields)
	sc.Step(`^I time the run of "(.*)"$`, r.timedRun)
	sc.Step(`^it took less than (\d+) seconds$`, r.tookLess)
	sc.Step(`^stdout is a JSON list of (\d+) hosts? all with exit code (\d+)$`, r.fanOutJSON)
	sc.Step(`^every stdout line starts with one of "([^"]*)"$`, r.prefixedLines)
	sc.Step(`^the pool's known_hosts now holds the key of "([^"]*)"$`, r.knownHostsHolds)
	sc.Step(`^I start "(.*)" in the background$`, r.start)
	sc.Step(`^the network of pool "([^"]*)" is cut$`, r.cut)
	sc.Step(`^the background command ends within (\d+) seconds with exit code (\d+)$`, r.bgEnds)
	sc.Step(`^pool "([^"]*)" has no worker left$`, r.noWorkers)
	w.Cleanup(r.tearDown)
}

func (r *remote) tearDown() {
	r.bg.kill()
	for _, p := range r.pools {
		r.stopWorkers(p)
		_ = p.Stop()
	}
}

func (r *remote) userSSH(name string) string { return filepath.Join(r.w.UserHome, ".ssh", name) }

func (r *remote) clientKey() (*sshpool.Key, error) {
	if r.key == nil {
		k, err := sshpool.NewKey(filepath.Join(r.w.Dir, "operator_key"), "operator")
		if err != nil {
			return nil, err
		}
		r.key = k
		// also the default identity, for destinations not in the pools file
		pem, err := os.ReadFile(k.Path)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(r.userSSH(""), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(r.userSSH("id_ed25519"), pem, 0o600); err != nil {
			return nil, err
		}
		r.marker = filepath.Join(r.w.Dir, "pwned-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	}
	return r.key, nil
}

// startPool starts sshd for the pool, trusts its host key in the
// operator's ~/.ssh/known_hosts and adds it to the pools file. The pool's
// remote environment gets the scenario's HF_ENDPOINT and worker settings.
func (r *remote) startPool(name string, o sshpool.Options) error {
	key, err := r.clientKey()
	if err != nil {
		return err
	}
	o.Name, o.ClientKey, o.Dir = name, key, filepath.Join(r.w.Dir, "pool-"+name)
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return err
	}
	o.Env = map[string]string{}
	for k, v := range r.w.Env {
		if k != "PATH" {
			o.Env[k] = v
		}
	}
	p, err := sshpool.Start(context.Background(), o)
	if err != nil {
		return err
	}
	r.pools[name] = p
	// ${ALPHA_DEST}: the pool as user@host:port, for --host without the pools file
	r.w.Env[strings.ToUpper(name)+"_DEST"] = p.Dest()
	if err := appendFile(r.userSSH("known_hosts"), p.KnownHostsLine()+"\n"); err != nil {
		return err
	}
	r.entries[name] = fmt.Sprintf("[[pool]]\nname = %q\nhost = %q\nport = %d\nuser = %q\nidentity_file = %q\nbackends = [\"cpu\"]\n",
		name, p.Host, p.Port, p.User, key.Path)
	return r.writePools()
}

func (r *remote) blackholePool(name string) error {
	b, err := sshpool.NewBlackhole()
	if err != nil {
		return err
	}
	r.w.Cleanup(func() { b.Close() })
	host, port, _ := strings.Cut(b.Addr(), ":")
	r.entries[name] = fmt.Sprintf("[[pool]]\nname = %q\nhost = %q\nport = %s\n", name, host, port)
	return r.writePools()
}

func (r *remote) writePools() error {
	names := make([]string, 0, len(r.entries))
	for n := range r.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(r.entries[n] + "\n")
	}
	p := filepath.Join(r.w.UserHome, ".config", "rbee", "pools.toml")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(b.String()), 0o644)
}

func appendFile(path, s string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (r *remote) pool(name string) (*sshpool.Pool, error) {
	p, ok := r.pools[name]
	if !ok {
		return nil, fmt.Errorf("no SSH pool %q in this scenario", name)
	}
	return p, nil
}

func (r *remote) sshConfig(interval, count int) error {
	return appendFile(r.userSSH("config"), fmt.Sprintf("Host *\n  ServerAliveInterval %d\n  ServerAliveCountMax %d\n", interval, count))
}

// rewriteKnownHosts replaces the pool's known_hosts line (nil key: drops it).
func (r *remote) rewriteKnownHosts(p *sshpool.Pool, line string) error {
	b, err := os.ReadFile(r.userSSH("known_hosts"))
	if err != nil {
		return err
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l != p.KnownHostsLine() {
			out = append(out, l)
		}
	}
	if line != "" {
		out = append(out, line)
	}
	return os.WriteFile(r.userSSH("known_hosts"), []byte(strings.Join(out, "\n")+"\n"), 0o600)
}

// hostKeyChanged: known_hosts holds another key for the pool, as after a
// reinstall — or a man in the middle.
func (r *remote) hostKeyChanged(name string) error {
	p, err := r.pool(name)
	if err != nil {
		return err
	}
	other, err := sshpool.NewKey(filepath.Join(r.w.Dir, "other_host_key_"+name), "")
	if err != nil {
		return err
	}
	return r.rewriteKnownHosts(p, knownhosts.Line([]string{knownhosts.Normalize(p.Addr())}, other.Public))
}

func (r *remote) hostKeyUnknown(name string) error {
	p, err := r.pool(name)
	if err != nil {
		return err
	}
	return r.rewriteKnownHosts(p, "")
}

func (r *remote) knownHostsHolds(name string) error {
	p, err := r.pool(name)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(r.userSSH("known_hosts"))
	if err != nil {
		return err
	}
	if !strings.Contains(string(b), p.KnownHostsLine()) {
		return fmt.Errorf("known_hosts lacks %q:\n%s", p.KnownHostsLine(), b)
	}
	return nil
}

func (r *remote) keyNotAuthorized(name string) error {
	p, err := r.pool(name)
	if err != nil {
		return err
	}
	other, err := sshpool.NewKey(filepath.Join(r.w.Dir, "someone_else"), "")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(p.Dir, "authorized_keys"), []byte(sshpool.AuthorizedLine(other.Public, "")), 0o600)
}

// tinyModelOnPool prepares a model in the pool's home, as the workers
// feature does in the local one.
func (r *remote) tinyModelOnPool(id, name string) error {
	p, err := r.pool(name)
	if err != nil {
		return err
	}
	saved := r.w.Home
	r.w.Home = p.Home
	defer func() { r.w.Home = saved }()
	return r.w.tinyModelDownloaded(id)
}
