package sshtransport_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rbee-go/rbee/internal/testbed/harness"
	"github.com/rbee-go/rbee/internal/testbed/sshpool"
)

// benchEnv is four loopback sshd pools with the built binaries, a pools
// file naming them, and a client environment without agent or dotfiles.
type benchEnv struct {
	bins       *harness.Bins
	key        *sshpool.Key
	pools      []*sshpool.Pool
	poolsFile  string
	knownHosts string
	env        []string
}

func newBenchEnv(b *testing.B, n int) *benchEnv {
	b.Helper()
	bins, err := harness.Build()
	if err != nil {
		b.Fatal(err)
	}
	e := &benchEnv{bins: bins, key: sshpool.ClientKeyT(b)}
	dir := b.TempDir()
	var pf strings.Builder
	for i := 1; i <= n; i++ {
		p := sshpool.StartT(b, sshpool.Options{Name: fmt.Sprintf("p%d", i), ClientKey: e.key, BinDir: bins.Dir})
		e.pools = append(e.pools, p)
		fmt.Fprintf(&pf, "[[pool]]\nname = %q\nhost = %q\nport = %d\nuser = %q\nidentity_file = %q\n\n",
			p.Name, p.Host, p.Port, p.User, e.key.Path)
	}
	e.poolsFile = filepath.Join(dir, "pools.toml")
	e.knownHosts = filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(e.poolsFile, []byte(pf.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	if err := sshpool.WriteKnownHosts(e.knownHosts, e.pools...); err != nil {
		b.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		b.Fatal(err)
	}
	e.env = []string{"HOME=" + home, "PATH=" + bins.PathEnv(), "USER=" + e.pools[0].User}
	return e
}

func (e *benchEnv) keeper(hosts string) *exec.Cmd {
	cmd := exec.Command(e.bins.Path(harness.Keeper), "--pools", e.poolsFile, "--known-hosts", e.knownHosts,
		"--ssh-config", "none", "pool", "status", "--host", hosts, "--json")
	cmd.Env = e.env
	return cmd
}

// openssh runs the same command with OpenSSH's client; extra options
// (e.g. a key exchange) go before the destination.
func (e *benchEnv) openssh(p *sshpool.Pool, extra ...string) *exec.Cmd {
	args := []string{"-F", "none", "-i", e.key.Path, "-o", "UserKnownHostsFile=" + e.knownHosts,
		"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-p", strconv.Itoa(p.Port)}
	args = append(append(args, extra...), p.User+"@"+p.Host, "rbee-hive", "status", "--json")
	cmd := exec.Command("ssh", args...)
	cmd.Env = e.env
	return cmd
}

// opensshAll runs OpenSSH against every pool at once and returns the wall
// time until the last one finished.
func (e *benchEnv) opensshAll(b *testing.B) float64 {
	b.Helper()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, len(e.pools))
	for i, p := range e.pools {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := e.openssh(p, "-o", "KexAlgorithms=curve25519-sha256").Output()
			if err == nil && !json.Valid(out) {
				err = fmt.Errorf("not JSON: %s", out)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	ms := float64(time.Since(start).Microseconds()) / 1000
	for _, err := range errs {
		if err != nil {
			b.Fatalf("ssh fan-out: %v", err)
		}
	}
	return ms
}

// cpuMs is the CPU time (user + system) the pools' sshd processes and all
// their reaped descendants (sessions, shells, hives) have used so far, from
// /proc/PID/stat of each listener.
func (e *benchEnv) cpuMs(b *testing.B) float64 {
	b.Helper()
	var ticks int64
	for _, p := range e.pools {
		pid, err := os.ReadFile(filepath.Join(p.Dir, "sshd.pid"))
		if err != nil {
			b.Fatal(err)
		}
		stat, err := os.ReadFile("/proc/" + strings.TrimSpace(string(pid)) + "/stat")
		if err != nil {
			b.Fatal(err)
		}
		// fields after the ")" closing the command name: utime is the 12th
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		for _, i := range []int{11, 12, 13, 14} { // utime stime cutime cstime
			n, _ := strconv.ParseInt(f[i], 10, 64)
			ticks += n
		}
	}
	return float64(ticks) * 10 // USER_HZ is 100 on Linux
}

// timed runs cmd and checks it printed JSON.
func timed(b *testing.B, cmd *exec.Cmd) float64 {
	b.Helper()
	ms, _ := timedCPU(b, cmd)
	return ms
}

// timedCPU also returns the CPU time the command itself used.
func timedCPU(b *testing.B, cmd *exec.Cmd) (wallMs, cpuMs float64) {
	b.Helper()
	start := time.Now()
	out, err := cmd.Output()
	ms := float64(time.Since(start).Microseconds()) / 1000
	if err != nil || !json.Valid(out) {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		b.Fatalf("%s: %v\n%s%s", strings.Join(cmd.Args, " "), err, out, stderr)
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return ms, float64(cpu.Microseconds()) / 1000
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// BenchmarkSSH: one invocation of `rbee-keeper pool status --json` against
// a loopback sshd versus OpenSSH's `ssh H rbee-hive status --json` against
// the same sshd (target ratio ≤ 1.1), and the keeper fanning out to four
// pools versus one (target ≤ 1.3). Each iteration runs the pair
// alternately so machine load hits both alike; medians are reported.
func BenchmarkSSH(b *testing.B) {
	if err := sshpool.Available(); err != nil {
		b.Fatal(err)
	}
	e := newBenchEnv(b, 4)
	hosts4 := "p1,p2,p3,p4"
	for range 2 { // warm caches (binaries, sshd) outside the figures
		timed(b, e.keeper(hosts4))
		timed(b, e.openssh(e.pools[0]))
	}
	// OpenSSH 9.x negotiates the post-quantum sntrup761x25519 key exchange,
	// x/crypto (against this sshd) curve25519: the second reference pins
	// OpenSSH to curve25519 too, so the ratio compares like with like.
	sameKex := []string{"-o", "KexAlgorithms=curve25519-sha256"}
	b.Run("KeeperVsOpenSSH", func(b *testing.B) {
		var keeper, openssh, openssh25519 []float64
		for i := 0; b.Loop(); i++ {
			runs := []func(){
				func() { keeper = append(keeper, timed(b, e.keeper("p1"))) },
				func() { openssh = append(openssh, timed(b, e.openssh(e.pools[0]))) },
				func() { openssh25519 = append(openssh25519, timed(b, e.openssh(e.pools[0], sameKex...))) },
			}
			for j := range runs { // rotate the order every iteration
				runs[(i+j)%len(runs)]()
			}
		}
		k, o, o25519 := median(keeper), median(openssh), median(openssh25519)
		b.ReportMetric(k, "keeper-ms")
		b.ReportMetric(o, "openssh-ms")
		b.ReportMetric(o25519, "openssh-c25519-ms")
		b.ReportMetric(k/o, "ratio")
		b.ReportMetric(k/o25519, "ratio-c25519")
	})
	// The four pools share this machine's cores with the keeper, so 4 pools
	// cost more CPU than 1 whatever the client does; four OpenSSH clients
	// started at once are the reference for what that costs.
	b.Run("FanOut4vs1", func(b *testing.B) {
		var one, four, openssh4, keeperCPU, poolCPU []float64
		for i := 0; b.Loop(); i++ {
			runs := []func(){
				func() {
					before := e.cpuMs(b)
					wall, kc := timedCPU(b, e.keeper("p1"))
					one = append(one, wall)
					keeperCPU = append(keeperCPU, kc)
					poolCPU = append(poolCPU, e.cpuMs(b)-before)
				},
				func() { four = append(four, timed(b, e.keeper(hosts4))) },
				func() { openssh4 = append(openssh4, e.opensshAll(b)) },
			}
			for j := range runs {
				runs[(i+j)%len(runs)]()
			}
		}
		m1, m4, o4 := median(one), median(four), median(openssh4)
		// CPU of the keeper process and of one pool's side (sshd, shell,
		// hive): the keeper runs once, the pool side four times, on this
		// machine's cores — no client can make 4 pools take less than floor
		kc, pc := median(keeperCPU), median(poolCPU)
		floor := max(m1, (kc+4*pc)/float64(runtime.NumCPU()))
		b.ReportMetric(kc, "keeper-cpu-ms")
		b.ReportMetric(pc, "pool-cpu-ms")
		b.ReportMetric(floor, "4pools-cpu-floor-ms")
		b.ReportMetric(m1, "1pool-ms")
		b.ReportMetric(m4, "4pools-ms")
		b.ReportMetric(o4, "openssh-4-parallel-ms")
		b.ReportMetric(m4/m1, "ratio")
		b.ReportMetric(m4/o4, "ratio-vs-openssh-4")
	})
}
