package syncio_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/rbee-go/rbee/internal/syncio"
)

// TestWriterConcurrent fails under -race (and usually loses bytes) if the
// writes to the shared buffer are not serialised.
func TestWriterConcurrent(t *testing.T) {
	var buf bytes.Buffer
	w := syncio.NewWriter(&buf)
	const writers, lines = 8, 200
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			line := strings.Repeat(string(rune('a'+i)), 31) + "\n"
			for range lines {
				n, err := w.Write([]byte(line))
				assert.NoError(t, err)
				assert.Equal(t, len(line), n)
			}
		}()
	}
	wg.Wait()
	got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	assert.Len(t, got, writers*lines)
	for _, l := range got {
		assert.Len(t, l, 31)
		assert.Equal(t, strings.Repeat(l[:1], 31), l, "a write was interleaved")
	}
}
