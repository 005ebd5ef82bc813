package server

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/rbee-go/rbee/internal/bytesize"
	"github.com/rbee-go/rbee/worker"
)

// KVSizer is a Model that can say how much memory the KV cache of a
// sequence takes; the server then refuses a request whose cache would not
// fit in the memory available, instead of being killed by the kernel.
type KVSizer interface {
	KVBytes(positions int) int64
}

// MemAvailable is the kernel's estimate of memory available to a new
// allocation without swapping (/proc/meminfo MemAvailable).
func MemAvailable() (uint64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/meminfo: %w", err)
		}
		return kb << 10, nil
	}
	return 0, errors.New("/proc/meminfo has no MemAvailable")
}

// checkMemory refuses a request whose KV cache (prompt + max_tokens
// positions) exceeds the memory available now. A host that cannot say
// (no /proc/meminfo) is not refused.
func (s *Server) checkMemory(req worker.ExecuteRequest, prompt []int) *worker.FieldError {
	kv, ok := s.b.Model.(KVSizer)
	if !ok {
		return nil
	}
	free := s.opts.FreeMemory
	if free == nil {
		free = MemAvailable
	}
	avail, err := free()
	if err != nil {
		return nil
	}
	positions := min(len(prompt)+req.MaxTokens, s.b.Model.ContextLength())
	need := kv.KVBytes(positions)
	if need <= 0 || uint64(need) <= avail {
		return nil
	}
	return &worker.FieldError{Field: "max_tokens", Constraint: "memory",
		Message: fmt.Sprintf("a context of %d tokens (prompt %d + max_tokens %d) needs %s of KV cache; only %s of memory is available: lower max_tokens or shorten the prompt",
			positions, len(prompt), req.MaxTokens, bytesize.Format(uint64(need)), bytesize.Format(avail))}
}
