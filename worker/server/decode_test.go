package server_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/rbee-go/rbee/worker/tinymodel"
)

// TestGeneratedTextKeepsLeadingSpace: the stream decoder continues after the
// prompt, so the first generated word keeps its space (a SentencePiece
// decoder strips the leading space only at the start of a sequence).
func TestGeneratedTextKeepsLeadingSpace(t *testing.T) {
	tests := []struct {
		arch tinymodel.Arch
		next string // text whose single token follows the prompt
	}{
		{tinymodel.Llama, " Paris"},
		{tinymodel.Qwen2, " Paris"},
	}
	for _, tt := range tests {
		t.Run(string(tt.arch), func(t *testing.T) {
			b := loadTiny(t, tt.arch)
			prompt := b.Tokenizer.Encode("The capital of France is", true)
			next := b.Tokenizer.Encode(tt.next, false)
			if tt.arch == tinymodel.Llama {
				next = next[len(next)-1:] // "▁Paris" after SentencePiece's prepended "▁"
			}
			dec := b.Tokenizer.NewStreamDecoder(prompt, true)
			var got string
			for _, id := range next {
				got += dec.Push(id)
			}
			got += dec.Flush()
			assert.Equal(t, " Paris", got)
		})
	}
}
