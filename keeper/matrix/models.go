package matrix

import (
	"fmt"
	"slices"
	"strings"

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
}

// Model sets of DESIGN §6.
const (
	SetTiny = "tiny"
	SetSeed = "seed"
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

// TinyModels are the four tiny random-weight models (worker/tinymodel).
func TinyModels() []Model {
	var ms []Model
	for _, r := range tinymodel.Repos() {
		ms = append(ms, Model{ID: r.ID, Name: r.ID + " (tiny random weights)", Repo: r.Repo, Architecture: r.Catalog, Tiny: true})
	}
	return ms
}

// ResolveModels turns the -models value into models: "tiny", "seed", or a
// comma list of ids from either set (the sets may be named in the list).
func ResolveModels(spec string) ([]Model, error) {
	known := append(TinyModels(), SeedModels()...)
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
			for _, m := range TinyModels() {
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
			return nil, fmt.Errorf("-models: unknown model %q (known: tiny, seed, %s)", id, strings.Join(ids, ", "))
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
