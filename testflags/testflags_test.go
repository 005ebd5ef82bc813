package testflags

import (
	"flag"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want Matrix
	}{
		{"defaults", nil, Matrix{Pools: []string{"localhost:cpu"}, Models: "tiny", CellTimeout: 10 * time.Minute, RedialLimit: 3 * time.Minute}},
		{"all set", []string{"-pools", "mac.home.arpa:metal, workstation:cuda,", "-models=seed", "-hub=http://127.0.0.1:9", "-update", "-cell-timeout=90s", "-resume", "-redial-limit=20s"},
			Matrix{Pools: []string{"mac.home.arpa:metal", "workstation:cuda"}, Models: "seed", Hub: "http://127.0.0.1:9", Update: true, CellTimeout: 90 * time.Second,
				Resume: true, RedialLimit: 20 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			v := register(fs)
			require.NoError(t, fs.Parse(tt.args))
			assert.Equal(t, tt.want, v.get())
		})
	}
}

func TestRegisteredOnCommandLine(t *testing.T) {
	for _, name := range []string{"pools", "models", "hub", "update", "cell-timeout", "resume", "redial-limit"} {
		assert.NotNil(t, flag.Lookup(name), name)
	}
	assert.NotEmpty(t, Get().Pools)
}
