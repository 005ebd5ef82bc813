package keeper

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHiveFailure(t *testing.T) {
	tests := []struct {
		name, stderr, msg, hint string
		code                    int
	}{
		{"error and hint", "error: model \"x\" is not in the catalog\nhint: register it", "pool: model \"x\" is not in the catalog", "register it", 1},
		{"after progress lines", "downloading org/m@abc: 3 files\nerror: disk full under /h: 12 more bytes needed\nhint: free space",
			"pool: disk full under /h: 12 more bytes needed", "free space", 1},
		{"killed: no error line", "downloading org/m@abc: 3 files, 20 MiB",
			`pool: rbee-hive exited with status 137 (killed by signal 9: killed) without saying why (last output: "downloading org/m@abc: 3 files, 20 MiB")`, "", 137},
		{"nothing printed", "", "pool: rbee-hive exited with status 2", "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := hiveFailure("pool", tt.code, tt.stderr)
			assert.Equal(t, CodeHiveFailed, e.Code)
			assert.Equal(t, tt.msg, e.Msg)
			assert.Equal(t, tt.hint, e.Hint)
		})
	}
}
