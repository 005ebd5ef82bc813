package agree_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker/engine"
)

func TestScratchStories(t *testing.T) {
	m, err := engine.Load("/work/shared/fixtures/realmodel/stories260K/hf", engine.Options{Threads: 1})
	require.NoError(t, err)
	defer m.Close()
	r := compare(t, m, "../../testdata/realmodel/stories260K/stories260K.gguf", []int{1}, 200)
	t.Log(r)
}

func TestScratchTiny(t *testing.T) {
	for _, a := range []string{"llama", "qwen2", "phi3", "mistral"} {
		m, err := engine.Load("/tmp/scratch/hf-"+a, engine.Options{Threads: 1})
		require.NoError(t, err)
		r := compare(t, m, "/tmp/scratch/"+a+".gguf", []int{1, 306, 4966, 304, 1708, 29871, 100, 200}, 48)
		r.Model = a
		t.Log(r)
		for _, d := range r.Diffs {
			t.Log("  ", d)
		}
		m.Close()
	}
}
