package mmap

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugeSize is the x86-64 / arm64 (4 KiB base pages) PMD size.
const hugeSize = 2 << 20

// preferHuge makes a weight mapping resident in 2 MiB pages where the
// kernel can (file THP: ext4/xfs large folios): a decode step streams all
// weights once, and 4 KiB mappings of a 2 GB model are ~500k TLB entries
// per token against ~1000. Whether the file's page cache can be mapped
// that way depends on how it got there: a file written in small pieces (a
// download) leaves small folios, which only ever map as 4 KiB pages. Then
// the cached pages are written back if dirty, dropped, and read back with
// huge readahead —
// one copy in RAM throughout, a re-read from disk once per file. Best
// effort: errors leave an ordinary mapping.
func preferHuge(f *os.File, b []byte) {
	if len(b) < 2*hugeSize {
		return
	}
	if unix.Madvise(b, unix.MADV_HUGEPAGE) != nil {
		return // no THP in this kernel
	}
	if unix.Madvise(b, unix.MADV_POPULATE_READ) != nil {
		return // before Linux 5.14: fault in lazily
	}
	if HugeBytes(b) >= hugeTarget(len(b)) {
		return
	}
	if unix.Madvise(b, unix.MADV_DONTNEED) != nil {
		return
	}
	// Dirty pages (a file just written) cannot be dropped: write them back.
	if unix.Fdatasync(int(f.Fd())) != nil {
		return
	}
	if unix.Fadvise(int(f.Fd()), 0, int64(len(b)), unix.FADV_DONTNEED) != nil {
		return
	}
	_ = unix.Madvise(b, unix.MADV_POPULATE_READ)
}

// hugeTarget is what a fully huge mapping of n bytes reaches: all but the
// unaligned head and tail.
func hugeTarget(n int) int64 { return int64(n/hugeSize-1) * hugeSize }

// HugeBytes returns how much of mapping b the kernel maps in 2 MiB pages
// now (FilePmdMapped of its VMA in /proc/self/smaps; 0 if unknown).
func HugeBytes(b []byte) int64 {
	if len(b) == 0 {
		return 0
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0
	}
	defer f.Close()
	start := uint64(uintptr(unsafe.Pointer(&b[0])))
	prefix := fmt.Appendf(nil, "%x-", start)
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Bytes()
		if isVMAHeader(line) {
			in = bytes.HasPrefix(line, prefix)
			continue
		}
		if in && bytes.HasPrefix(line, []byte("FilePmdMapped:")) {
			fields := bytes.Fields(line)
			kb, err := strconv.ParseInt(string(fields[1]), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// isVMAHeader tells "7f12a000-7f12b000 r--s ..." from "Key:  value" lines.
func isVMAHeader(line []byte) bool {
	i := bytes.IndexByte(line, ' ')
	return i > 0 && bytes.IndexByte(line[:i], '-') > 0 && bytes.IndexByte(line[:i], ':') < 0
}

// FileTHP reports whether the kernel can map the file at path in 2 MiB
// pages: transparent huge pages not off, and a file system with large
// page-cache folios (ext4, xfs).
func FileTHP(path string) bool {
	thp, _ := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	var st unix.Statfs_t
	if len(thp) == 0 || bytes.Contains(thp, []byte("[never]")) || unix.Statfs(path, &st) != nil {
		return false
	}
	return st.Type == unix.EXT4_SUPER_MAGIC || st.Type == unix.XFS_SUPER_MAGIC
}
