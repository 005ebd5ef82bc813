package hostinfo_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/hostinfo"
)

func TestPlatformAndMetal(t *testing.T) {
	tests := []struct {
		name             string
		p                hostinfo.Prober
		wantOS, wantArch string
		wantMetal        bool
	}{
		{"this machine", hostinfo.Prober{}, runtime.GOOS, runtime.GOARCH, runtime.GOOS == "darwin" && runtime.GOARCH == "arm64"},
		{"apple silicon", hostinfo.Prober{GOOS: "darwin", GOARCH: "arm64"}, "darwin", "arm64", true},
		{"intel mac", hostinfo.Prober{GOOS: "darwin", GOARCH: "amd64"}, "darwin", "amd64", false},
		{"linux arm", hostinfo.Prober{GOOS: "linux", GOARCH: "arm64"}, "linux", "arm64", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			goos, goarch := tt.p.Platform()
			assert.Equal(t, tt.wantOS, goos)
			assert.Equal(t, tt.wantArch, goarch)
			assert.Equal(t, tt.wantMetal, tt.p.Metal())
		})
	}
}

func TestRAM(t *testing.T) {
	total, avail, err := hostinfo.Prober{}.RAM(context.Background())
	require.NoError(t, err)
	assert.Positive(t, total)
	assert.Positive(t, avail)
	assert.LessOrEqual(t, avail, total)
}
