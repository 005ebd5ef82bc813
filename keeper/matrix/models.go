package matrix

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rbee-go/rbee/worker/quant"
	"github.com/rbee-go/rbee/worker/realmodel"
	"github.com/rbee-go/rbee/worker/tinymodel"
)

// Model is one model of the matrix: what `rbee-hive models register` needs.
type Model struct {
	ID           string
	Name         string
	Repo         string
	Architecture string   // catalog architecture: llama, qwen, phi, mistral
	Include      []string // download globs; nil = the hive's default set
	Tiny         bool     // a random-weight test model, never shown as a real one
	// CI: a real trained model of every CI run (DESIGN §7), served by the
	// embedded mirror from testdata, with a heading of its own.
	CI bool
	// Reference, when set, is the cell's request and the exact text it
	// must stream; otherwise two identical runs are enough.
	Reference *Reference
}

// Reference is a published greedy output: the prompt, the tokens asked
// for and the text a correct engine streams.
type Reference struct {
	Prompt    string
	MaxTokens int
	Text      string
	Source    string // what the text is, for a failure: "the published text"
}

// Model sets of DESIGN §6 and §7. SetTiny is the CI set: the real trained
// stories260K first (HF folder and GGUF), then the four tiny random-weight
// models as HF folders and as Q8_0 GGUF files, all served by the embedded
// mirror; SetStories is stories260K alone.
const (
	SetTiny    = "tiny"
	SetSeed    = "seed"
	SetStories = "stories"
)

// seedInclude keeps one copy of the weights: some real repos also carry
// consolidated.safetensors or PyTorch .bin files next to the HF shards.
func seedInclude() []string { return []string{"model*.safetensors", "*.json", "tokenizer.model"} }

// SeedModels are the four real models of checkpoint 4.
func SeedModels() []Model {
	return []Model{
		{ID: "tinyllama", Name: "TinyLlama 1.1B Chat", Repo: "TinyLlama/TinyLlama-1.1B-Chat-v1.0", Architecture: "llama", Include: seedInclude()},
		{ID: "qwen-0.5b", Name: "Qwen2.5 0.5B Instruct", Repo: "Qwen/Qwen2.5-0.5B-Instruct", Architecture: "qwen", Include: seedInclude()},
		{ID: "phi3", Name: "Phi-3 mini 4k Instruct", Repo: "microsoft/Phi-3-mini-4k-instruct", Architecture: "phi", Include: seedInclude()},
		{ID: "mistral", Name: "Mistral 7B Instruct v0.2", Repo: "mistralai/Mistral-7B-Instruct-v0.2", Architecture: "mistral", Include: seedInclude()},
	}
}

// StoriesModels are stories260K (worker/realmodel) in both formats, the HF
// safetensors folder and the GGUF file; their cells pass only on llama2.c's
// published greedy text.
func StoriesModels() []Model {
	ref := &Reference{Prompt: realmodel.Prompt, MaxTokens: realmodel.PromptTokens, Text: realmodel.Continuation(),
		Source: "the published text"}
	return []Model{
		{ID: realmodel.HFID, Name: "stories260K (HF safetensors)", Repo: realmodel.HFRepo, Architecture: "llama", CI: true, Reference: ref},
		{ID: realmodel.GGUFID, Name: "stories260K (GGUF, F32)", Repo: realmodel.GGUFRepo, Architecture: "llama", Include: []string{"*.gguf"}, CI: true, Reference: ref},
	}
}

// TinyModels are the four tiny random-weight models (worker/tinymodel).
func TinyModels() []Model {
	var ms []Model
	for _, r := range tinymodel.Repos() {
		ms = append(ms, Model{ID: r.ID, Name: r.ID + " (tiny random weights)", Repo: r.Repo, Architecture: r.Catalog, Tiny: true})
	}
	return ms
}

// TinyGGUFType is the quantization the matrix runs the tiny GGUF models in.
const TinyGGUFType = quant.Q8_0

// TinyGGUFModels are the four tiny models as GGUF repos (their Q8_0 file,
// chosen by --include like a real GGUF sibling).
func TinyGGUFModels() []Model {
	var ms []Model
	for _, r := range tinymodel.Repos() {
		q := TinyGGUFType.String()
		ms = append(ms, Model{ID: r.ID + "-" + strings.ToLower(q), Name: r.ID + " " + q + " GGUF (tiny random weights)",
			Repo: tinymodel.GGUFRepo(r), Architecture: r.Catalog, Include: []string{"*-" + q + ".gguf"}, Tiny: true})
	}
	return ms
}

// ResolveModels turns the -models value into models: "tiny", "seed", or a
// comma list of ids from either set (the sets may be named in the list).
func ResolveModels(spec string) ([]Model, error) {
	known := slices.Concat(StoriesModels(), TinyModels(), TinyGGUFModels(), SeedModels())
	var out []Model
	add := func(m Model) {
		if !slices.ContainsFunc(out, func(o Model) bool { return o.ID == m.ID }) {
			out = append(out, m)
		}
	}
	for _, id := range strings.Split(spec, ",") {
		id = strings.TrimSpace(id)
		switch id {
		case "":
			continue
		case SetTiny:
			for _, m := range slices.Concat(StoriesModels(), TinyModels(), TinyGGUFModels()) {
				add(m)
			}
			continue
		case SetStories:
			for _, m := range StoriesModels() {
				add(m)
			}
			continue
		case SetSeed:
			for _, m := range SeedModels() {
				add(m)
			}
			continue
		}
		i := slices.IndexFunc(known, func(m Model) bool { return m.ID == id })
		if i < 0 {
			ids := make([]string, len(known))
			for j, m := range known {
				ids[j] = m.ID
			}
			return nil, fmt.Errorf("-models: unknown model %q (known: tiny, seed, stories, %s)", id, strings.Join(ids, ", "))
		}
		add(known[i])
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-models: no model given (use tiny, seed or a comma list of ids)")
	}
	return out, nil
}

// registerArgs is the `rbee-hive models register` command line of m.
func (m Model) registerArgs() []string {
	args := []string{"models", "register", m.ID, "--name", m.Name, "--repo", m.Repo,
		"--architecture", m.Architecture, "--backends", "cpu,metal,cuda"}
	for _, g := range m.Include {
		args = append(args, "--include", g)
	}
	return args
}
