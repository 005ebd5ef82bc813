package rustworker_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/internal/testbed/rustworker"
	"github.com/rbee-go/rbee/worker"
	"github.com/rbee-go/rbee/worker/engine"
	"github.com/rbee-go/rbee/worker/sample"
	"github.com/rbee-go/rbee/worker/tinymodel"
	"github.com/rbee-go/rbee/worker/tokenizer"
)

func execute(t *testing.T, p *proc, body string) (*http.Response, []worker.Event) {
	t.Helper()
	resp, raw := post(t, p.url()+"/execute", "application/json", body)
	require.Equal(t, http.StatusOK, resp.StatusCode, raw)
	var evs []worker.Event
	d := worker.NewDecoder(strings.NewReader(raw))
	for {
		ev, err := d.Next()
		if err != nil {
			break
		}
		evs = append(evs, ev)
	}
	assert.NotContains(t, raw, "event:")
	assert.NotContains(t, raw, "id:")
	return resp, evs
}

// greedy is the Go engine's own greedy continuation, widened to F32 as the
// stand-in loads it, to prove the stand-in's tokens are real.
func greedy(t *testing.T, dir, prompt string, n int) string {
	t.Helper()
	m, err := engine.Load(dir, engine.Options{})
	require.NoError(t, err)
	defer m.Close()
	tok, err := tokenizer.Load(dir)
	require.NoError(t, err)
	ids := tok.Encode(prompt, true)
	s := m.NewSession()
	logits, err := s.Forward(ids)
	require.NoError(t, err)
	dec := tok.NewStreamDecoderAfter(ids, true)
	eos, _ := tok.EOS()
	var out strings.Builder
	for i := 0; i < n; i++ {
		id := sample.Argmax(logits)
		if id == eos || containsInt(m.Config().EOS, id) {
			break
		}
		out.WriteString(dec.Push(id))
		if logits, err = s.Forward([]int{id}); err != nil {
			t.Fatal(err)
		}
	}
	return out.String() + dec.Flush()
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// The stream: buffered, started_at "0", model "model", real tokens, and
// stop_reason MAX_TOKENS always (no stop_sequence_matched).
func TestExecuteStream(t *testing.T) {
	dir := model(t, tinymodel.Llama)
	p := startWorker(t, "llm-worker-rbee", dir, newSink(t, 200))
	p.waitHealthy(t)
	resp, evs := execute(t, p, `{"job_id":"j1","prompt":"The capital of France is","max_tokens":8,"temperature":0,"stop":["zzz"],"unknown":1}`)
	assert.Equal(t, worker.ContentTypeSSE, resp.Header.Get("Content-Type"))
	assert.NotEmpty(t, resp.Header.Get("Content-Length"), "buffered: the length was known before the first byte went out")
	require.GreaterOrEqual(t, len(evs), 2)
	assert.Equal(t, worker.Started("j1", "model", "0"), evs[0])
	require.NoError(t, worker.CheckJob("j1", evs), "conforms")
	end := evs[len(evs)-1]
	assert.Equal(t, worker.StopMaxTokens, end.StopReason)
	assert.Empty(t, end.StopSequenceMatched)
	var text strings.Builder
	for _, ev := range evs[1 : len(evs)-1] {
		text.WriteString(ev.Text)
	}
	assert.Equal(t, greedy(t, dir, "The capital of France is", 8), text.String())

	// Llama sessions are fresh per request: the same request, the same
	// tokens; a stop string is validated but never applied.
	stop, _ := json.Marshal(evs[1].Text)
	_, again := execute(t, p, `{"job_id":"j1","prompt":"The capital of France is","max_tokens":8,"temperature":0,"stop":[`+string(stop)+`]}`)
	assert.Equal(t, evs[:len(evs)-1], again[:len(again)-1])
}

// A generation that stops on EOS still says MAX_TOKENS: the model's EOS
// is made the greedy first token, so it stops at once.
func TestStopReasonAlwaysMaxTokens(t *testing.T) {
	dir := model(t, tinymodel.Llama)
	m, err := engine.Load(dir, engine.Options{})
	require.NoError(t, err)
	tok, err := tokenizer.Load(dir)
	require.NoError(t, err)
	logits, err := m.NewSession().Forward(tok.Encode("a", true))
	require.NoError(t, err)
	first := sample.Argmax(logits)
	require.NoError(t, m.Close())
	for _, f := range []string{"config.json", "generation_config.json"} {
		setJSON(t, filepath.Join(dir, f), "eos_token_id", first)
	}

	p := startWorker(t, "llm-worker-rbee", dir, newSink(t, 200))
	p.waitHealthy(t)
	_, evs := execute(t, p, `{"job_id":"j","prompt":"a","max_tokens":16,"temperature":0}`)
	require.Len(t, evs, 2, "started, then end at the EOS")
	assert.Equal(t, worker.End(0, evs[1].DecodeTimeMS, worker.StopMaxTokens, ""), evs[1])
}

func setJSON(t *testing.T, path, key string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return
	}
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(raw, &doc))
	doc[key] = v
	raw, err = json.Marshal(doc)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, raw, 0o644))
}

// Qwen2 and Mistral keep one KV cache forever: on the CPU the second
// request fails with candle's broadcast error as a lone error event; on a
// GPU build the warm-up already filled it, so the first one fails.
func TestCacheNeverReset(t *testing.T) {
	for _, arch := range []tinymodel.Arch{tinymodel.Qwen2, tinymodel.Mistral} {
		t.Run(string(arch)+" cpu", func(t *testing.T) {
			p := startWorker(t, "llm-worker-rbee", model(t, arch), newSink(t, 200))
			p.waitHealthy(t)
			_, first := execute(t, p, `{"job_id":"j1","prompt":"Hello there","max_tokens":4,"temperature":0}`)
			require.NoError(t, worker.CheckJob("j1", first))
			_, second := execute(t, p, `{"job_id":"j2","prompt":"Hello there","max_tokens":4,"temperature":0}`)
			require.Len(t, second, 1, "a lone error event, no started before it")
			assert.Equal(t, worker.EventError, second[0].Type)
			assert.Equal(t, rustworker.CodeInferenceFailed, second[0].Code)
			assert.Regexp(t, `^cannot broadcast \[\d+, \d+\] to \[1, \d+, \d+, \d+\]$`, second[0].Message)
		})
		t.Run(string(arch)+" cuda", func(t *testing.T) {
			p := startWorker(t, "llm-worker-rbee-cuda", model(t, arch), newSink(t, 200), rustworker.EnvFakeGPU+"="+t.TempDir())
			p.waitHealthy(t)
			_, first := execute(t, p, `{"job_id":"j1","prompt":"Hello there","max_tokens":4,"temperature":0}`)
			require.Len(t, first, 1)
			assert.Contains(t, first[0].Message, "cannot broadcast")
		})
	}
}

// The error shapes: 415 without JSON content type, 400 text on bad JSON,
// 422 text on a missing field, a wrong type or "stop": null, 400 JSON with
// field errors on range errors.
func TestExecuteErrorShapes(t *testing.T) {
	p := startWorker(t, "llm-worker-rbee", model(t, tinymodel.Llama), newSink(t, 200))
	p.waitHealthy(t)
	tests := []struct {
		name, ct, body string
		status         int
		typ, contains  string
	}{
		{"no content type", "text/plain", `{"job_id":"j","prompt":"a","max_tokens":1}`, 415, "text/plain", "Content-Type: application/json"},
		{"bad json", "application/json", `{"job_id":`, 400, "text/plain", "Failed to parse the request body as JSON"},
		{"missing field", "application/json", `{"job_id":"j","prompt":"a"}`, 422, "text/plain", "missing field `max_tokens`"},
		{"wrong type", "application/json", `{"job_id":"j","prompt":"a","max_tokens":"8"}`, 422, "text/plain", "Failed to deserialize the JSON body"},
		{"stop null", "application/json", `{"job_id":"j","prompt":"a","max_tokens":1,"stop":null}`, 422, "text/plain", "invalid type: null"},
		{"ranges", "application/json", `{"job_id":"","prompt":"a","max_tokens":4096,"temperature":3,"top_p":2,"repetition_penalty":5,"min_p":2,"stop":["a","b","c","d","e"]}`, 400, "application/json",
			`"field":"job_id"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, p.url()+"/execute", tt.ct, tt.body)
			assert.Equal(t, tt.status, resp.StatusCode, body)
			assert.Contains(t, resp.Header.Get("Content-Type"), tt.typ)
			assert.Contains(t, body, tt.contains)
		})
	}
	_, body := post(t, p.url()+"/execute", "application/json", tests[5].body)
	for _, f := range []string{"job_id", "max_tokens", "temperature", "top_p", "repetition_penalty", "min_p", "stop"} {
		assert.Contains(t, body, `"field":"`+f+`"`)
	}
	assert.Contains(t, body, `"constraint":"range(1..=2048)","message":"max_tokens must be between 1 and 2048","value":"4096"`)
}
