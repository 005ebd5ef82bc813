package testflags

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSplitPool(t *testing.T) {
	tests := []struct {
		in, dest, backend string
		ok                bool
	}{
		{"localhost:cpu", "localhost", "cpu", true},
		{"user@host:2222:cuda", "user@host:2222", "cuda", true},
		{"harness-2:cpu", "harness-2", "cpu", true},
		{"nobackend", "", "", false},
		{"host:", "", "", false},
		{":cpu", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, b, ok := SplitPool(tt.in)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.dest, d)
			assert.Equal(t, tt.backend, b)
		})
	}
}

func TestDefaults(t *testing.T) {
	m := Get()
	assert.Equal(t, []string{"localhost:cpu"}, m.Pools)
	assert.Equal(t, "tiny", m.Models)
}
