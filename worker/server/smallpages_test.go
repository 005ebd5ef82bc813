package server

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSmallPages(t *testing.T) {
	for _, c := range []struct {
		goos         string
		mapped, huge int64
		want         bool
	}{
		{"linux", 2 << 30, 0, true},
		{"linux", 2 << 30, 2<<30 - 4<<20, false},
		{"linux", 2 << 30, 1 << 29, true},
		{"linux", 8 << 20, 0, false},  // a tiny model: its pages do not matter
		{"darwin", 2 << 30, 0, false}, // no split to read there
	} {
		assert.Equal(t, c.want, smallPages(c.goos, c.mapped, c.huge), "%+v", c)
	}
}
