package engine_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/rbee-go/rbee/worker/engine"
	"github.com/rbee-go/rbee/worker/safetensors"
)

// tinyLlamaConfig is TinyLlama-1.1B's shape.
const tinyLlamaConfig = `{"architectures":["LlamaForCausalLM"],"hidden_size":2048,"intermediate_size":5632,
	"max_position_embeddings":2048,"num_attention_heads":32,"num_hidden_layers":22,"num_key_value_heads":4,
	"rms_norm_eps":1e-05,"rope_theta":10000.0,"tie_word_embeddings":false,"vocab_size":32000,"hidden_act":"silu"}`

// benchModel builds the 2.2 GB BF16 model once per test binary: generating
// it takes seconds and every benchmark (and -count repetition) shares it.
// It is written to a safetensors file and loaded from there, memory-mapped
// as the worker serves it (the file is unlinked once mapped).
var benchModel = sync.OnceValues(func() (*engine.Model, error) {
	cfg, err := engine.ParseConfig([]byte(tinyLlamaConfig), nil)
	if err != nil {
		return nil, err
	}
	// A block of random normal BF16 values is tiled through every tensor at
	// shifting offsets: realistic magnitudes, generated at memcpy speed.
	r := rand.New(rand.NewPCG(42, 42))
	block := make([]byte, 2*(1<<20+7))
	for i := 0; i < len(block); i += 2 {
		v := math.Float32bits(float32(r.NormFloat64() * 0.02))
		block[i], block[i+1] = byte(v>>16), byte(v>>24)
	}
	ones := make([]byte, 2*cfg.Hidden)
	for i := 0; i < len(ones); i += 2 {
		ones[i], ones[i+1] = 0x80, 0x3f // BF16 1.0
	}
	tm := engine.TensorMap{}
	off := 0
	add := func(name string, shape ...int) {
		n := 2
		for _, d := range shape {
			n *= d
		}
		data := make([]byte, n)
		if len(shape) == 1 {
			copy(data, ones)
		} else {
			for i := 0; i < n; {
				off = (off + 2*7919) % (len(block) / 2)
				i += copy(data[i:], block[off:])
			}
		}
		tm[name] = safetensors.Tensor{Name: name, DType: safetensors.BF16, Shape: shape, Data: data}
	}
	h, kv, inter := cfg.Hidden, cfg.KVHeads*cfg.HeadDim, cfg.Intermediate
	add("model.embed_tokens.weight", cfg.VocabSize, h)
	for l := range cfg.Layers {
		p := fmt.Sprintf("model.layers.%d.", l)
		add(p+"input_layernorm.weight", h)
		add(p+"post_attention_layernorm.weight", h)
		add(p+"self_attn.q_proj.weight", h, h)
		add(p+"self_attn.k_proj.weight", kv, h)
		add(p+"self_attn.v_proj.weight", kv, h)
		add(p+"self_attn.o_proj.weight", h, h)
		add(p+"mlp.gate_proj.weight", inter, h)
		add(p+"mlp.up_proj.weight", inter, h)
		add(p+"mlp.down_proj.weight", h, inter)
	}
	add("model.norm.weight", h)
	add("lm_head.weight", cfg.VocabSize, h)
	dir, err := os.MkdirTemp("", "rbee-bench-model-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	list := make([]safetensors.Tensor, 0, len(tm))
	for _, t := range tm {
		list = append(list, t)
	}
	if err := safetensors.Write(filepath.Join(dir, "model.safetensors"), list, nil); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(tinyLlamaConfig), 0o644); err != nil {
		return nil, err
	}
	list, tm = nil, nil
	runtime.GC()
	return engine.Load(dir, engine.Options{})
})

func loadBenchModel(b *testing.B) *engine.Model {
	b.Helper()
	m, err := benchModel()
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkPrefill: one op = a fresh session prefilling prefillTokens.
// Prefill is compute-bound (matrix-matrix), so it has no bandwidth roofline.
func BenchmarkPrefill(b *testing.B) {
	const prefillTokens = 128
	m := loadBenchModel(b)
	toks := tokens(1, prefillTokens, m.Config().VocabSize)
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := m.NewSession().Forward(toks); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(prefillTokens*b.N)/b.Elapsed().Seconds(), "tok/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		// tokens per CPU-second over all workers: what the kernels achieve
		// when other jobs take cores away from the wall-clock figure
		b.ReportMetric(float64(prefillTokens*b.N)/cpu.Seconds(), "tok/cpu-s")
	}
}

// BenchmarkDecode: one op = one decoded token after a 32-token prompt. The
// roofline is measured in the same run: after every decode step (timer
// stopped) all workers stream the model's own decode weights with the
// kernels' loads, so both see the same machine load; bandwidth divided by
// the bytes one decode step must read is the roofline.
func BenchmarkDecode(b *testing.B) {
	m := loadBenchModel(b)
	s := m.NewSession()
	if _, err := s.Forward(tokens(2, 32, m.Config().VocabSize)); err != nil {
		b.Fatal(err)
	}
	bufs := m.DecodeBuffers()
	var streamed int64
	var streamTime time.Duration
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Forward([]int{s.Len() % 1000}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		start := time.Now()
		m.Pool().StreamRead(bufs...)
		streamTime += time.Since(start)
		for _, buf := range bufs {
			streamed += int64(len(buf))
		}
		b.StartTimer()
	}
	decode := float64(b.N) / b.Elapsed().Seconds()
	bw := float64(streamed) / streamTime.Seconds()
	roofline := bw / float64(m.DecodeBytes())
	b.ReportMetric(decode, "tok/s")
	b.ReportMetric(bw/1e9, "GB/s")
	b.ReportMetric(roofline, "roofline-tok/s")
	b.ReportMetric(decode/roofline, "roofline-ratio")
}

// BenchmarkBandwidth reports the read bandwidth alone.
func BenchmarkBandwidth(b *testing.B) {
	m := loadBenchModel(b)
	bufs := m.DecodeBuffers()
	var total int
	b.ResetTimer()
	for b.Loop() {
		m.Pool().StreamRead(bufs...)
		for _, buf := range bufs {
			total += len(buf)
		}
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds()/1e9, "GB/s")
}
