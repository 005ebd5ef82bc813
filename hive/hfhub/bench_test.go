package hfhub_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/hubmirror"
)

// benchBed is a mirror serving one big random file and the rbee-hive binary
// built for this run; every hive figure is a whole `rbee-hive models
// download` process, as an operator runs it.
type benchBed struct {
	root, hive, curl string
	size             int64
	srv              *hubmirror.Server
}

const benchRepo = "rbee-bench/big"

func newBenchBed(b *testing.B, envSize string, def int64) *benchBed {
	curl, err := exec.LookPath("curl")
	require.NoError(b, err, "curl is needed as the reference: apt-get install curl (make deps)")
	size := def
	if s := os.Getenv(envSize); s != "" {
		size, err = strconv.ParseInt(s, 10, 64)
		require.NoError(b, err)
	}
	root := b.TempDir()
	hive := filepath.Join(root, "rbee-hive")
	out, err := exec.Command("go", "build", "-o", hive, "github.com/rbee-go/rbee/hive/cmd/rbee-hive").CombinedOutput()
	require.NoError(b, err, "%s", out)
	repoDir := filepath.Join(root, "mirror", filepath.FromSlash(benchRepo))
	require.NoError(b, os.MkdirAll(repoDir, 0o755))
	writeRandomFile(b, filepath.Join(repoDir, "model.safetensors"), size)
	srv, err := hubmirror.Start(filepath.Join(root, "mirror"))
	require.NoError(b, err)
	b.Cleanup(func() { srv.Close() })
	_, err = srv.Repo(benchRepo) // hash once, outside the timings
	require.NoError(b, err)
	return &benchBed{root: root, hive: hive, curl: curl, size: size, srv: srv}
}

// download runs `rbee-hive models download` into a fresh home against
// endpoint and returns MB/s and the CPU seconds of the process.
func (bb *benchBed) download(b *testing.B, endpoint string, args ...string) (mbs, cpu float64) {
	mbs, cpu, _ = bb.downloadOut(b, endpoint, args...)
	return mbs, cpu
}

func (bb *benchBed) downloadOut(b *testing.B, endpoint string, args ...string) (mbs, cpu float64, output string) {
	home, err := os.MkdirTemp(bb.root, "home")
	require.NoError(b, err)
	defer os.RemoveAll(home)
	env := append(os.Environ(), "RBEE_HOME="+home, "HF_ENDPOINT="+endpoint, "HF_TOKEN=")
	reg := exec.Command(bb.hive, "models", "register", "big", "--name", "Big", "--repo", benchRepo, "--architecture", "llama")
	reg.Env = env
	out, err := reg.CombinedOutput()
	require.NoError(b, err, "%s", out)
	cmd := exec.Command(bb.hive, append([]string{"models", "download", "big"}, args...)...)
	cmd.Env = env
	start := time.Now()
	out, err = cmd.CombinedOutput()
	secs := time.Since(start).Seconds()
	require.NoError(b, err, "%s", out)
	return float64(bb.size) / 1e6 / secs, (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds(), string(out)
}

// curlOnce fetches the file with one `curl -o` through endpoint.
func (bb *benchBed) curlOnce(b *testing.B, endpoint string) (mbs, cpu float64) {
	out := filepath.Join(bb.root, "curl.bin")
	defer os.Remove(out)
	cmd := exec.Command(bb.curl, "-sS", "-f", "-o", out, endpoint+"/"+benchRepo+"/resolve/main/model.safetensors")
	cmd.Stderr = os.Stderr
	start := time.Now()
	require.NoError(b, cmd.Run())
	return float64(bb.size) / 1e6 / time.Since(start).Seconds(), (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
}

// BenchmarkDownloadVsCurl: 1 GiB (RBEE_BENCH_DOWNLOAD_BYTES) on loopback,
// alternately the whole rbee-hive process (default parallel ranges, then
// --connections 1) and `curl -o`, 5 rounds, medians; target hive/curl >= 1.0.
// CPU figures add the in-process mirror's share to each client's own.
func BenchmarkDownloadVsCurl(b *testing.B) {
	bb := newBenchBed(b, "RBEE_BENCH_DOWNLOAD_BYTES", 1<<30)
	const rounds = 5
	var par, one, ref, parCPU, oneCPU, refCPU []float64
	gib := float64(bb.size) / (1 << 30)
	for range b.N * rounds {
		c0 := selfCPU()
		m, c := bb.download(b, bb.srv.URL)
		par, parCPU = append(par, m), append(parCPU, (c+selfCPU()-c0)/gib)
		c0 = selfCPU()
		m, c = bb.curlOnce(b, bb.srv.URL)
		ref, refCPU = append(ref, m), append(refCPU, (c+selfCPU()-c0)/gib)
		c0 = selfCPU()
		m, c = bb.download(b, bb.srv.URL, "--connections", "1")
		one, oneCPU = append(one, m), append(oneCPU, (c+selfCPU()-c0)/gib)
	}
	p, o, r := median(par), median(one), median(ref)
	b.ReportMetric(p, "hive-MB/s")
	b.ReportMetric(o, "hive-1conn-MB/s")
	b.ReportMetric(r, "curl-MB/s")
	b.ReportMetric(p/r, "hive/curl")
	b.ReportMetric(o/r, "hive-1conn/curl")
	b.Logf("loopback, %d MiB, %d rounds: hive (ranges) %v, hive --connections 1 %v, curl %v MB/s; medians %.0f / %.0f / %.0f, ratios %.3f / %.3f; CPU s/GiB incl. mirror: %v / %v / %v",
		bb.size>>20, len(par), rounded(par), rounded(one), rounded(ref), p, o, r, p/r, o/r, rounded2(parCPU), rounded2(oneCPU), rounded2(refCPU))
}

// BenchmarkDownloadCapped puts Toxiproxy between the clients and the mirror:
// each connection gets a 40 MB/s bandwidth toxic and 20 ms latency, as a CDN
// caps one TCP stream. The hive's parallel ranges against one curl stream
// through the same proxy, alternately, 5 rounds (256 MiB;
// RBEE_BENCH_CAPPED_BYTES); target >= 3x.
func BenchmarkDownloadCapped(b *testing.B) {
	bb := newBenchBed(b, "RBEE_BENCH_CAPPED_BYTES", 256<<20)
	proxy := startToxiproxy(b, strings.TrimPrefix(bb.srv.URL, "http://"), 40_000, 20)
	const rounds = 5
	var hive, ref []float64
	for range b.N * rounds {
		m, _ := bb.download(b, proxy)
		hive = append(hive, m)
		m, _ = bb.curlOnce(b, proxy)
		ref = append(ref, m)
	}
	h, r := median(hive), median(ref)
	b.ReportMetric(h, "hive-MB/s")
	b.ReportMetric(r, "curl-MB/s")
	b.ReportMetric(h/r, "hive/curl")
	b.Logf("toxiproxy 40 MB/s per connection + 20 ms, %d MiB, %d rounds: hive %v, curl %v MB/s; medians %.0f / %.0f, ratio %.2f",
		bb.size>>20, len(hive), rounded(hive), rounded(ref), h, r, h/r)
}

// BenchmarkDownloadResume cuts the transfer at 50% (one stream: the mirror
// cuts the connection; parallel ranges: every open range at once) and lets
// the process resume; the mirror counts the body bytes it sent. Target < 1.01.
func BenchmarkDownloadResume(b *testing.B) {
	bb := newBenchBed(b, "RBEE_BENCH_DOWNLOAD_BYTES", 1<<30)
	target := benchRepo + "/model.safetensors"
	for _, tt := range []struct {
		name   string
		faults hubmirror.Faults
		args   []string
	}{
		{"one-stream", hubmirror.Faults{CutAfter: bb.size / 2, CutTimes: 1}, []string{"--connections", "1"}},
		{"ranges", hubmirror.Faults{CutTotal: bb.size/2 + 4321}, nil},
	} {
		bb.srv.ResetStats()
		bb.srv.SetFaults(target, tt.faults)
		_, _, out := bb.downloadOut(b, bb.srv.URL, tt.args...)
		require.Contains(b, out, "retrying model.safetensors", "the cut happened and was resumed")
		ratio := float64(bb.srv.BytesServed(target)) / float64(bb.size)
		b.ReportMetric(ratio, tt.name+"-bytes/size")
		b.Logf("resume after a 50%% cut, %s, %d MiB: %.4f× the file size sent in total", tt.name, bb.size>>20, ratio)
	}
	bb.srv.ClearFaults()
}

// startToxiproxy proxies upstream on a free loopback port with a bandwidth
// (KB/s) and latency (ms) toxic on every connection's downstream.
func startToxiproxy(b *testing.B, upstream string, rateKBs, latencyMS int) string {
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, "hub", "127.0.0.1:0", upstream)
	require.NoError(b, p.Start())
	b.Cleanup(p.Stop)
	for _, tox := range []string{
		fmt.Sprintf(`{"type": "bandwidth", "stream": "downstream", "attributes": {"rate": %d}}`, rateKBs),
		fmt.Sprintf(`{"type": "latency", "stream": "downstream", "attributes": {"latency": %d}}`, latencyMS),
	} {
		_, err := p.Toxics.AddToxicJson(strings.NewReader(tox))
		require.NoError(b, err)
	}
	return "http://" + p.Listen
}

// selfCPU is this process's user+system CPU seconds so far.
func selfCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func writeRandomFile(b *testing.B, p string, size int64) {
	f, err := os.Create(p)
	require.NoError(b, err)
	defer f.Close()
	r := rand.NewChaCha8([32]byte{1, 2, 3})
	buf := make([]byte, 64<<10) // small writes: see writeSize in fetch.go
	for left := size; left > 0; left -= int64(len(buf)) {
		n := min(left, int64(len(buf)))
		_, _ = r.Read(buf[:n])
		_, err := f.Write(buf[:n])
		require.NoError(b, err)
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func rounded(xs []float64) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprintf("%.0f", x)
	}
	return out
}

func rounded2(xs []float64) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprintf("%.2f", x)
	}
	return out
}
