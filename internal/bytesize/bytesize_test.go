package bytesize_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/rbee-go/rbee/internal/bytesize"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		n    uint64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"},
		{2200119864, "2.0 GiB"}, {5 << 40, "5.0 TiB"}, {1 << 50, "1.0 PiB"},
		{3 << 60, "3.0 EiB"}, {math.MaxUint64, "16.0 EiB"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, bytesize.Format(tt.n), "%d", tt.n)
		if tt.n <= math.MaxInt64 {
			assert.Equal(t, tt.want, bytesize.Format(int64(tt.n)), "int64 %d", tt.n)
		}
	}
	assert.Equal(t, "-5 B", bytesize.Format(int64(-5)))
	assert.Equal(t, "8.0 EiB", bytesize.Format(int64(math.MaxInt64)))
}
