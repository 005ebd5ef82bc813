package hfhub_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rbee-go/rbee/hive/hfhub"
	"github.com/rbee-go/rbee/hive/hubmirror"
	"github.com/stretchr/testify/require"
)

// BenchmarkDownloadVsCurl serves one big random file (1 GiB; env
// RBEE_BENCH_DOWNLOAD_BYTES) from the mirror on loopback and downloads it
// alternately with the hive client and `curl -o`, 5 rounds, reporting the
// median throughputs and their ratio (target >= 0.9), then a download cut at
// 50% and resumed: bytes on the wire / file size (target < 1.01).
// Run: make bench-download.
func BenchmarkDownloadVsCurl(b *testing.B) {
	curl, err := exec.LookPath("curl")
	require.NoError(b, err, "curl is needed as the reference: apt-get install curl (make deps)")
	size := int64(1 << 30)
	if s := os.Getenv("RBEE_BENCH_DOWNLOAD_BYTES"); s != "" {
		size, err = strconv.ParseInt(s, 10, 64)
		require.NoError(b, err)
	}
	root := b.TempDir()
	repoDir := filepath.Join(root, "mirror", "rbee-bench", "big")
	require.NoError(b, os.MkdirAll(repoDir, 0o755))
	writeRandomFile(b, filepath.Join(repoDir, "model.safetensors"), size)
	srv, err := hubmirror.Start(filepath.Join(root, "mirror"))
	require.NoError(b, err)
	b.Cleanup(func() { srv.Close() })
	_, err = srv.Repo("rbee-bench/big") // hash once, outside the timings
	require.NoError(b, err)
	url := srv.URL + "/rbee-bench/big/resolve/main/model.safetensors"
	const rounds = 5
	var hiveMBs, curlMBs, hiveCPU, curlCPU []float64
	gib := float64(size) / (1 << 30)
	for i := range b.N * rounds {
		dir := filepath.Join(root, "dl", strconv.Itoa(i))
		cpu0 := selfCPU()
		start := time.Now()
		res, err := hfhub.New(hfhub.Config{Endpoint: srv.URL}).Download(context.Background(),
			hfhub.Request{Repo: "rbee-bench/big", Dir: dir})
		require.NoError(b, err)
		hiveMBs = append(hiveMBs, float64(res.Bytes)/1e6/time.Since(start).Seconds())
		// CPU of this process: the client plus the mirror serving it.
		hiveCPU = append(hiveCPU, (selfCPU()-cpu0)/gib)
		require.NoError(b, os.RemoveAll(dir))

		out := filepath.Join(root, "curl.bin")
		cpu0 = selfCPU()
		start = time.Now()
		cmd := exec.Command(curl, "-sS", "-f", "-o", out, url)
		cmd.Stderr = os.Stderr
		require.NoError(b, cmd.Run())
		curlMBs = append(curlMBs, float64(size)/1e6/time.Since(start).Seconds())
		// curl's CPU plus the mirror's, comparable with the hive figure.
		curlCPU = append(curlCPU, (selfCPU()-cpu0+(cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime()).Seconds())/gib)
		require.NoError(b, os.Remove(out))
	}
	h, c := median(hiveMBs), median(curlMBs)
	b.ReportMetric(h, "hive-MB/s")
	b.ReportMetric(c, "curl-MB/s")
	b.ReportMetric(h/c, "hive/curl")
	b.ReportMetric(median(hiveCPU), "hive-cpu-s/GiB")
	b.ReportMetric(median(curlCPU), "curl-cpu-s/GiB")

	// Resume: cut the transfer at 50%, let the client resume, count wire bytes.
	srv.ResetStats()
	srv.SetFaults("rbee-bench/big/model.safetensors", hubmirror.Faults{CutAfter: size / 2, CutTimes: 1})
	dir := filepath.Join(root, "dl", "resume")
	_, err = hfhub.New(hfhub.Config{Endpoint: srv.URL}, hfhub.WithRetries(6, 10*time.Millisecond)).
		Download(context.Background(), hfhub.Request{Repo: "rbee-bench/big", Dir: dir})
	require.NoError(b, err)
	resume := float64(srv.BytesServed("")) / float64(size)
	b.ReportMetric(resume, "resume-bytes/size")
	b.Logf("size %d MiB, rounds %d: hive %v MB/s, curl %v MB/s; medians hive %.0f, curl %.0f, ratio %.3f; CPU s/GiB (incl. mirror) hive %v, curl %v; resume after 50%% cut: %.4f× file size",
		size>>20, len(hiveMBs), rounded(hiveMBs), rounded(curlMBs), h, c, h/c, rounded2(hiveCPU), rounded2(curlCPU), resume)
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
