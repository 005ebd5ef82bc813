package matrix

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCommandLine(t *testing.T) {
	tests := []struct {
		cfg    Config
		update bool
		want   string
	}{
		{cfg: Config{Pools: []string{"localhost:cpu", "harness:cpu"}, Models: SetTiny}, update: true,
			want: "go test . -run TestMatrix -pools=localhost:cpu,harness:cpu -update"},
		{cfg: Config{Pools: []string{"mac:metal"}, Models: SetSeed, Hub: "http://mirror.lan:8088"},
			want: "go test . -run TestMatrix -pools=mac:metal -models=seed -hub=http://mirror.lan:8088"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, (&Runner{cfg: tt.cfg}).CommandLine(tt.update))
	}
}

func TestSortFollowsTheFlags(t *testing.T) {
	r := &Runner{
		Pools:  []*Pool{{Name: "b", Backends: []string{"cpu"}}, {Name: "a", Backends: []string{"cuda", "cpu"}}},
		Models: []Model{{ID: "m2"}, {ID: "m1"}},
	}
	run := Run{Cells: []Cell{
		{Pool: "a", Backend: "cpu", Model: "m1"}, {Pool: "b", Backend: "cpu", Model: "m1"},
		{Pool: "a", Backend: "cuda", Model: "m2"}, {Pool: "b", Backend: "cpu", Model: "m2"},
		{Pool: "a", Backend: "cpu", Model: "m2"}, {Pool: "a", Backend: "cuda", Model: "m1"},
	}}
	r.Sort(&run)
	var got []string
	for _, c := range run.Cells {
		got = append(got, c.Column()+"/"+c.Model)
	}
	assert.Equal(t, []string{"b/cpu/m2", "b/cpu/m1", "a/cuda/m2", "a/cuda/m1", "a/cpu/m2", "a/cpu/m1"}, got)
}
