package workers_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/hive/workers"
)

func TestBinaryVersion(t *testing.T) {
	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755))
		return p
	}
	tests := []struct {
		name, bin, want string
	}{
		{"first line", script("ok", `echo "llm-worker-rbee 0.1.0 (Go)"; echo more`), "llm-worker-rbee 0.1.0 (Go)"},
		{"refuses the flag", script("no", `echo "unknown flag" >&2; exit 2`), ""},
		{"missing", filepath.Join(dir, "nope"), ""},
		{"none configured", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, workers.BinaryVersion(context.Background(), tt.bin))
		})
	}
}
