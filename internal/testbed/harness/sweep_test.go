package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSweepStale(t *testing.T) {
	dead := exec.Command("true")
	require.NoError(t, dead.Run()) // its pid is now free
	mine := filepath.Join(os.TempDir(), fmt.Sprintf("%s%d-test", dirPrefix, os.Getpid()))
	gone := filepath.Join(os.TempDir(), fmt.Sprintf("%s%d-test", dirPrefix, dead.Process.Pid))
	other := filepath.Join(os.TempDir(), dirPrefix+"notapid-test")
	for _, d := range []string{mine, gone, other} {
		require.NoError(t, os.MkdirAll(d, 0o755))
		t.Cleanup(func() { _ = os.RemoveAll(d) })
	}
	sweepStale()
	assert.DirExists(t, mine, "a live process keeps its binaries")
	assert.NoDirExists(t, gone, "an exited process's binaries are removed")
	assert.DirExists(t, other, "names it does not understand are left alone")
}
