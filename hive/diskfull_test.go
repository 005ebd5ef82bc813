package hive_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive"
	"github.com/rbee-go/rbee/hive/hfhub"
	"github.com/rbee-go/rbee/hive/hubmirror"
	"github.com/rbee-go/rbee/internal/testbed/tmpfs"
)

// The disk fills up while the weights are being fetched (another process
// takes the space after the free-space check): the download fails with
// DISK_FULL naming the home and the bytes still needed, keeps the
// .incomplete, leaves the catalog untouched, and once space is back a rerun
// fetches exactly the missing bytes.
func TestDiskFullMidDownload(t *testing.T) {
	h, srv, files := downloadFixture(t)
	ctx := context.Background()
	// room for the model's 1 MiB plus the catalog, not for the filler too
	mnt := tmpfs.Mount(t, 3<<20/2)
	h.Home = filepath.Join(mnt, "home")
	_, err := h.Register(ctx, hive.RegisterRequest{ID: "tiny", Name: "Tiny", Repo: "rbee-testing/tiny", Architecture: "llama"})
	require.NoError(t, err)

	const stallAt = 256 << 10
	weights := "rbee-testing/tiny/model.safetensors"
	srv.SetFaults(weights, hubmirror.Faults{StallAfter: stallAt, StallFor: 2 * time.Second, StallTimes: 1})
	inc := filepath.Join(h.Home, "models", "tiny", "model.safetensors.incomplete")
	filled := make(chan error, 1)
	go func() { filled <- fillWhenReached(inc, stallAt, filepath.Join(mnt, "filler")) }()
	_, err = h.Download(ctx, "tiny", hive.DownloadOptions{Client: client(srv, 6)})
	require.NoError(t, <-filled)
	require.ErrorIs(t, err, hfhub.ErrDiskFull)
	st, serr := os.Stat(inc)
	require.NoError(t, serr, "the .incomplete is kept for a later resume")
	missing := int64(len(files["model.safetensors"])) - st.Size()
	assert.Less(t, missing, int64(len(files["model.safetensors"])))
	assert.Contains(t, err.Error(), "disk full under "+h.Home+": ")
	// config.json (fetched in parallel) may have landed before the disk filled
	need := missing
	if _, cerr := os.Stat(filepath.Join(h.Home, "models", "tiny", "config.json")); cerr != nil {
		need += int64(len(files["config.json"]))
	}
	assert.Contains(t, err.Error(), ": "+strconv.FormatInt(need, 10)+" more bytes needed")
	m, gerr := h.Catalog().Get(ctx, "tiny")
	require.NoError(t, gerr)
	assert.False(t, m.Downloaded, "the catalog is untouched")
	assert.Empty(t, m.Metadata.Files)

	require.NoError(t, os.Remove(filepath.Join(mnt, "filler")))
	// The mirror counts a response when its handler ends: wait for the
	// aborted one, so its tail is not counted as the rerun's.
	require.Eventually(t, func() bool { return srv.BytesServed(weights) > 0 }, 10*time.Second, 5*time.Millisecond)
	srv.ClearFaults()
	srv.ResetStats()
	_, err = h.Download(ctx, "tiny", hive.DownloadOptions{Client: client(srv, 6)})
	require.NoError(t, err)
	assert.Equal(t, missing, srv.BytesServed(weights), "the rerun fetches only the missing bytes")
	m, err = h.Catalog().Get(ctx, "tiny")
	require.NoError(t, err)
	assert.True(t, m.Downloaded)
	got, err := os.ReadFile(filepath.Join(h.Home, "models", "tiny", "model.safetensors"))
	require.NoError(t, err)
	assert.Equal(t, files["model.safetensors"], got)
}

// fillWhenReached waits until path holds at least n bytes, then fills its
// file system with filler.
func fillWhenReached(path string, n int64, filler string) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		if st, err := os.Stat(path); err == nil && st.Size() >= n {
			break
		}
		if time.Now().After(deadline) {
			return errors.New(path + " never reached the stall point")
		}
		time.Sleep(2 * time.Millisecond)
	}
	f, err := os.Create(filler)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return nil
			}
			return err
		}
	}
}
