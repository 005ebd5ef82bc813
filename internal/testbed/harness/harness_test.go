package harness_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/internal/testbed/harness"
)

func TestBuild(t *testing.T) {
	b, err := harness.Build()
	require.NoError(t, err)
	again, err := harness.Build()
	require.NoError(t, err)
	assert.Same(t, b, again, "built once per process")
	for _, name := range []string{harness.Hive, harness.Keeper} {
		require.True(t, b.Has(name), name)
		out, err := exec.Command(b.Path(name), "--version").Output()
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(string(out), name+" "), string(out))
	}
	assert.True(t, strings.HasPrefix(b.PathEnv(), b.Dir))
}
