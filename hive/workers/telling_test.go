package workers_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/rbee-go/rbee/hive/workers"
)

func TestTellingLine(t *testing.T) {
	tests := []struct {
		name string
		tail []string
		want string
	}{
		{"anyhow error wins over later lines", []string{
			"\x1b[2m2025-10-09T10:00:00Z\x1b[0m \x1b[32m INFO\x1b[0m llm_worker_rbee: Loading model",
			"\x1b[2m2025-10-09T10:00:01Z\x1b[0m \x1b[31mERROR\x1b[0m llm_worker_rbee: load failed",
			"Error: Unsupported model architecture: phi3",
			"",
		}, "Unsupported model architecture: phi3"},
		{"logged error", []string{"\x1b[31mERROR\x1b[0m llm_worker_rbee::main: CUDA device 3 not found", "bye"}, "CUDA device 3 not found"},
		{"tracing json error", []string{`{"timestamp":"t","level":"ERROR","fields":{"message":"CUDA out of memory"}}`, `{"level":"INFO","fields":{"message":"bye"}}`}, "CUDA out of memory"},
		{"slog error", []string{`time=x level=ERROR msg="cannot load model: bad config"`}, "cannot load model: bad config"},
		{"panic", []string{"thread 'main' panicked at src/main.rs:10:5:", "thread 'main' panicked at src/main.rs:10:5: index out of bounds"}, "index out of bounds"},
		{"last line otherwise", []string{"loading", "cannot open the model", "  "}, "cannot open the model"},
		{"nothing", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, workers.TellingLine(tt.tail))
		})
	}
}
