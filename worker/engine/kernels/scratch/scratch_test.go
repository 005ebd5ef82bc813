package scratch

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rbee-go/rbee/worker/engine/kernels"
)

func smaps(t *testing.T, what string) {
	sm, _ := os.ReadFile("/proc/self/smaps_rollup")
	for _, l := range strings.Split(string(sm), "\n") {
		if strings.Contains(l, "PmdMapped") || strings.HasPrefix(l, "AnonHuge") || strings.HasPrefix(l, "Rss") {
			t.Log(what, l)
		}
	}
}

func TestScratch(t *testing.T) {
	const size = 1 << 30
	buf := make([]byte, size)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	write := func(name string) string {
		p := filepath.Join(os.Getenv("SCRATCHDIR"), name)
		os.Remove(p)
		wf, _ := os.Create(p)
		for off := 0; off < size; off += 128 << 10 {
			wf.Write(buf[off : off+128<<10])
		}
		wf.Close()
		return p
	}
	mapf := func(p string, huge bool) []byte {
		f, _ := os.Open(p)
		defer f.Close()
		m, _ := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
		if huge {
			unix.Madvise(m, unix.MADV_HUGEPAGE)
			unix.Fadvise(int(f.Fd()), 0, size, unix.FADV_DONTNEED)
		}
		t0 := time.Now()
		t.Log(unix.Madvise(m, unix.MADV_POPULATE_READ), time.Since(t0))
		return m
	}
	small := mapf(write("small.bin"), false)
	smaps(t, "small")
	huge := mapf(write("huge.bin"), true)
	smaps(t, "small+huge")
	pool := kernels.NewPool(2)
	bufs := map[string][]byte{"heap": buf, "mmap-4k": small, "mmap-2m": huge}
	res := map[string][]float64{}
	for range 7 {
		for _, name := range []string{"heap", "mmap-4k", "mmap-2m"} {
			b := bufs[name]
			t0 := time.Now()
			for range 3 {
				pool.StreamRead(b)
			}
			res[name] = append(res[name], 3*float64(size)/time.Since(t0).Seconds()/1e9)
		}
	}
	for name, v := range res {
		slices.Sort(v)
		t.Logf("%-8s median %.1f GB/s  %v", name, v[3], v)
	}
}
