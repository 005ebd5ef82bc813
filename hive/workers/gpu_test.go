package workers_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/workers"
)

// list says of a cuda worker whether nvidia-smi lists its process.
func TestListReportsGPUUse(t *testing.T) {
	f := newFixture(t, "both")
	res, err := f.m.Spawn(context.Background(), workers.SpawnRequest{Backend: "cuda", ModelID: "tiny", Port: freePort(t), Wait: 20 * time.Second})
	require.NoError(t, err)

	list, err := f.m.List(context.Background())
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.NotNil(t, list[0].GPU)
	assert.Equal(t, workers.GPUUse{}, *list[0].GPU, "not listed: it runs on the CPU")

	f.host.apps = map[int]uint64{res.PID: 3 << 20, 1: 5}
	list, err = f.m.List(context.Background())
	require.NoError(t, err)
	assert.Equal(t, workers.GPUUse{Listed: true, UsedBytes: 3 << 20}, *list[0].GPU)
}
