package server_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker"
	"github.com/rbee-go/rbee/worker/engine"
	"github.com/rbee-go/rbee/worker/server"
	"github.com/rbee-go/rbee/worker/tinymodel"
)

// tinyModel writes a tiny random model of arch into a temp dir.
func tinyModel(t *testing.T, arch tinymodel.Arch) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tiny-"+string(arch))
	require.NoError(t, tinymodel.Generate(dir, arch, tinymodel.DefaultSeed))
	return dir
}

func loadTiny(t *testing.T, arch tinymodel.Arch) *server.Backend {
	t.Helper()
	b, err := server.Load(tinyModel(t, arch), server.LoadOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, b.Close()) })
	return b
}

func sampled(job, prompt string, max int, seed uint64) worker.ExecuteRequest {
	r := worker.NewExecuteRequest(job, prompt, max)
	r.Temperature, r.TopP, r.TopK, r.RepetitionPenalty, r.Seed = 0.9, 0.95, 50, 1.1, worker.Seed(seed)
	return r
}

// TestRealEngine runs the server over the real engine and tokenizer on each
// tiny architecture.
func TestRealEngine(t *testing.T) {
	for _, arch := range []tinymodel.Arch{tinymodel.Llama, tinymodel.Qwen2, tinymodel.Phi3, tinymodel.Mistral} {
		t.Run(string(arch), func(t *testing.T) {
			b := loadTiny(t, arch)
			assert.Equal(t, "tiny-"+string(arch), b.Name)
			_, c := start(t, b, server.Options{})

			h, err := c.Health(context.Background())
			require.NoError(t, err)
			assert.Equal(t, b.Model.WeightBytes(), h.VRAMBytes)
			assert.Positive(t, h.VRAMBytes)

			const prompt = "Once upon a time, in a café in Zürich,"
			g1 := run(t, c, greedy("g1", prompt, 24))
			other := run(t, c, greedy("other", "Something else entirely: 日本語", 24))
			g2 := run(t, c, greedy("g2", prompt, 24))
			assert.Equal(t, worker.Text(g1), worker.Text(g2), "greedy twice, identical (no KV cache left over from %q)", worker.Text(other))
			assert.Equal(t, last(g1), withTimes(last(g2), last(g1)))
			assert.NotEmpty(t, worker.Text(g1))
			t.Logf("greedy: %q (%s, %d tokens)", worker.Text(g1), last(g1).StopReason, last(g1).TokensOut)
			if last(g1).StopReason == worker.StopMaxTokens {
				assert.LessOrEqual(t, last(g1).TokensOut, 24)
			}

			s1 := run(t, c, sampled("s1", prompt, 24, 42))
			s2 := run(t, c, sampled("s2", prompt, 24, 42))
			s3 := run(t, c, sampled("s3", prompt, 24, 7))
			assert.Equal(t, worker.Text(s1), worker.Text(s2), "same seed, same tokens")
			assert.NotEqual(t, worker.Text(s1), worker.Text(s3), "another seed, other tokens")

			// A stop string taken from the middle of the greedy output ends
			// the same generation right before it, wherever token borders fall.
			text := worker.Text(g1)
			runes := []rune(text)
			if len(runes) >= 6 {
				stop := string(runes[len(runes)/2 : len(runes)/2+3])
				req := greedy("stop", prompt, 24)
				req.Stop = []string{stop}
				evs := run(t, c, req)
				want := text[:strings.Index(text, stop)]
				assert.Equal(t, want, worker.Text(evs))
				assert.Equal(t, worker.StopSequence, last(evs).StopReason)
				assert.Equal(t, stop, last(evs).StopSequenceMatched)
			}
		})
	}
}

func withTimes(ev, from worker.Event) worker.Event {
	ev.DecodeTimeMS, ev.PrefillTimeMS = from.DecodeTimeMS, from.PrefillTimeMS
	return ev
}

func TestRealEngineContextLimits(t *testing.T) {
	b := loadTiny(t, tinymodel.Llama)
	_, c := start(t, b, server.Options{})
	ctxLen := b.Model.ContextLength()

	long := strings.Repeat("hello world ", ctxLen)
	_, err := c.Execute(context.Background(), greedy("long", long, 4))
	var se *worker.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusBadRequest, se.StatusCode)
	require.NotNil(t, se.Validation)
	assert.Equal(t, "prompt", se.Validation.Errors[0].Field)
	assert.Contains(t, se.Validation.Errors[0].Message, fmt.Sprint(ctxLen))

	// A prompt that nearly fills the context stops with MAX_TOKENS when full.
	near := strings.Repeat("a ", 4000)
	ids := len(b.Tokenizer.Encode(near, true))
	if ids >= ctxLen {
		near = near[:len(near)*(ctxLen-3)/ids]
	}
	n := len(b.Tokenizer.Encode(near, true))
	require.Less(t, n, ctxLen)
	r := greedy("near", near, 64)
	r.Seed = nil
	evs := run(t, c, r)
	end := last(evs)
	assert.Contains(t, []worker.StopReason{worker.StopMaxTokens, worker.StopEOS}, end.StopReason)
	if end.StopReason == worker.StopMaxTokens {
		t.Logf("prompt %d tokens, context %d: %d tokens out", n, ctxLen, end.TokensOut)
	}
	assert.Equal(t, worker.EventEnd, last(run(t, c, greedy("after", "hi", 2))).Type, "still serving")
}

func TestLoadErrors(t *testing.T) {
	good := tinyModel(t, tinymodel.Llama)
	copyDir := func(t *testing.T, edit func(dir string)) string {
		dir := filepath.Join(t.TempDir(), "m")
		require.NoError(t, os.CopyFS(dir, os.DirFS(good)))
		edit(dir)
		return dir
	}
	writeFile := func(name, content string) func(string) {
		return func(dir string) { require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)) }
	}
	tests := []struct {
		name string
		path func(t *testing.T) string
		want string
	}{
		{"missing folder", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }, "does not exist"},
		{"empty folder", func(t *testing.T) string { return t.TempDir() }, "config.json"},
		{"corrupt config", func(t *testing.T) string { return copyDir(t, writeFile("config.json", "{not json")) }, "config.json"},
		{"unsupported architecture", func(t *testing.T) string {
			return copyDir(t, func(dir string) {
				b, err := os.ReadFile(filepath.Join(dir, "config.json"))
				require.NoError(t, err)
				writeFile("config.json", strings.Replace(string(b), "LlamaForCausalLM", "GPT2LMHeadModel", 1))(dir)
			})
		}, "GPT2LMHeadModel"},
		{"tensor shape mismatch", func(t *testing.T) string {
			return copyDir(t, func(dir string) {
				b, err := os.ReadFile(filepath.Join(dir, "config.json"))
				require.NoError(t, err)
				writeFile("config.json", strings.Replace(string(b), `"intermediate_size": 128`, `"intermediate_size": 96`, 1))(dir)
			})
		}, "shape"},
		{"missing tokenizer", func(t *testing.T) string {
			return copyDir(t, func(dir string) { require.NoError(t, os.Remove(filepath.Join(dir, "tokenizer.json"))) })
		}, "tokenizer.json"},
		{"truncated weights", func(t *testing.T) string {
			return copyDir(t, func(dir string) {
				p := filepath.Join(dir, "model.safetensors")
				st, err := os.Stat(p)
				require.NoError(t, err)
				require.NoError(t, os.Truncate(p, st.Size()/2))
			})
		}, "model.safetensors"},
		{"missing weights", func(t *testing.T) string {
			return copyDir(t, func(dir string) { require.NoError(t, os.Remove(filepath.Join(dir, "model.safetensors"))) })
		}, "safetensors"},
		{"gguf file", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "m.gguf")
			require.NoError(t, os.WriteFile(p, []byte("GGUF"), 0o644))
			return p
		}, "GGUF"},
		{"other file", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "m.bin")
			require.NoError(t, os.WriteFile(p, []byte("x"), 0o644))
			return p
		}, "neither"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := server.Load(tt.path(t), server.LoadOptions{})
			require.ErrorIs(t, err, server.ErrModel)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "\n", "one line")
			if tt.name == "unsupported architecture" {
				assert.ErrorIs(t, err, engine.ErrUnsupported)
			}
		})
	}

	t.Run("single safetensors file", func(t *testing.T) {
		b, err := server.Load(filepath.Join(good, "model.safetensors"), server.LoadOptions{})
		require.NoError(t, err)
		require.NoError(t, b.Close())
	})
}
