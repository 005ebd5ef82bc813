package hostinfo_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/hostinfo"
)

func TestParseComputeApps(t *testing.T) {
	apps, err := hostinfo.ParseComputeApps("pid, used_gpu_memory [MiB]\n1234, 512 MiB\n99, 1 MiB\n")
	require.NoError(t, err)
	assert.Equal(t, map[int]uint64{1234: 512 << 20, 99: 1 << 20}, apps)

	apps, err = hostinfo.ParseComputeApps("pid, used_gpu_memory [MiB]\n")
	require.NoError(t, err)
	assert.Empty(t, apps)

	_, err = hostinfo.ParseComputeApps("pid, used_gpu_memory [MiB]\nabc, 1 MiB\n")
	assert.ErrorContains(t, err, "unexpected compute-apps line")
}
