package matrix

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// Markers of DESIGN §6 around the generated section of MODEL_SUPPORT.md, and
// the sub-sections that keep real-model and tiny-model results apart.
const (
	BeginMatrix = "<!-- BEGIN MATRIX -->"
	EndMatrix   = "<!-- END MATRIX -->"
	beginReal   = "<!-- BEGIN REAL -->"
	endReal     = "<!-- END REAL -->"
	beginTiny   = "<!-- BEGIN TINY -->"
	endTiny     = "<!-- END TINY -->"
	beginCI     = "<!-- BEGIN CI -->"
	endCI       = "<!-- END CI -->"
)

// Section is one sub-section of the matrix in MODEL_SUPPORT.md.
type Section string

// The sub-sections: real models (seed, homelab), the real trained model of
// every CI run (DESIGN §7), and the tiny random-weight models.
const (
	SectionReal Section = "real"
	SectionCI   Section = "ci"
	SectionTiny Section = "tiny"
)

// sections in document order, with their headings and markers.
var sections = []struct {
	s                   Section
	heading, begin, end string
}{
	{SectionReal, "Real models", beginReal, endReal},
	{SectionCI, "Real trained model, CI", beginCI, endCI},
	{SectionTiny, "Tiny random-weight models (CI)", beginTiny, endTiny},
}

// Section is the sub-section the cell belongs to.
func (c Cell) Section() Section {
	switch {
	case c.Tiny:
		return SectionTiny
	case c.CI:
		return SectionCI
	}
	return SectionReal
}

// archNotes says what each architecture exercises in the worker.
var archNotes = map[string]string{
	"llama":   "LlamaForCausalLM: RMSNorm, RoPE, grouped-query attention, SwiGLU; SentencePiece BPE with byte fallback.",
	"qwen":    "Qwen2ForCausalLM: q/k/v biases, tied embeddings; byte-level BPE with the Split regex pre-tokenizer.",
	"phi":     "Phi3ForCausalLM: fused qkv_proj and gate_up_proj weights.",
	"mistral": "MistralForCausalLM: sliding-window attention.",
}

// RenderSection renders one sub-section of a run.
func RenderSection(r Run, sec Section) string {
	cells := filterCells(r.Cells, sec)
	var b strings.Builder
	if len(cells) == 0 {
		switch sec {
		case SectionReal:
			b.WriteString("_Waiting for the real models: run `go test . -run TestMatrix -models=seed -pools=POOL:BACKEND,... -update` on the homelab._\n")
		default:
			b.WriteString("_No CI run recorded yet: `go test . -run TestMatrix -update`._\n")
		}
		return b.String()
	}
	switch sec {
	case SectionTiny:
		b.WriteString("These are **tiny random-weight models** (real architectures and tokenizers, a few MB, generated at test time):\n")
		b.WriteString("they prove the pipeline and the worker's architectures, not the quality of any real model.\n\n")
	case SectionCI:
		b.WriteString("**stories260K** is a real trained Llama model (Karpathy's llama2.c TinyStories model, 260K parameters, MIT;\n")
		b.WriteString("`testdata/realmodel/stories260K`), run in every CI matrix run from the embedded mirror in both formats: the\n")
		b.WriteString("HF safetensors folder (`stories260k`) and the GGUF file llama.cpp's CI uses (`stories260k-gguf`). Its cells\n")
		b.WriteString("pass only when the greedy text equals llama2.c's published output exactly, not merely when two runs agree.\n\n")
	}
	cols := columns(cells)
	models := modelOrder(cells)
	byKey := map[string]Cell{}
	for _, c := range cells {
		byKey[c.Model+"|"+c.Column()] = c
	}
	b.WriteString("| model | repo | architecture |")
	for _, col := range cols {
		fmt.Fprintf(&b, " %s |", col)
	}
	b.WriteString("\n|---|---|---|" + strings.Repeat("---|", len(cols)) + "\n")
	for _, m := range models {
		first := firstCell(cells, m)
		fmt.Fprintf(&b, "| %s | %s | %s |", m, first.Repo, first.Architecture)
		for _, col := range cols {
			c, ok := byKey[m+"|"+col]
			fmt.Fprintf(&b, " %s |", mark(c, ok))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n**Performance** (per cell):\n\n")
	b.WriteString("| model | pool/backend | size | load ms | first-token ms | prefill ms | tokens/s | tokens | cell ms | overhead ms |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, m := range models {
		for _, col := range cols {
			c, ok := byKey[m+"|"+col]
			if !ok || c.Status != Pass {
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %d | %s | %d | %.1f | %d | %d | %d |\n", m, col, humanBytes(c.ModelBytes), c.SpawnReadyMs, firstTokenText(c), c.PrefillMs, c.DecodeTokS, c.Tokens, c.WallMs, c.OverheadMs)
		}
	}
	b.WriteString("\nload = spawn to ready (the hive's record); first token = request to first token event (first run);\n" +
		"prefill = the worker's prefill_time_ms; tokens/s = the lower of the client's first-to-last-token rate and\n" +
		"the worker's tokens / decode time (both of the second run); overhead = cell wall time minus download, load and generation.\n" +
		bufferedNote)
	b.WriteString("\n**Architectures:**\n\n")
	for _, a := range archOrder(cells) {
		note := archNotes[a]
		if note == "" {
			note = "no notes."
		}
		fmt.Fprintf(&b, "- `%s` — %s\n", a, note)
	}
	if sec == SectionCI {
		writeStory(&b, cells)
	}
	fmt.Fprintf(&b, "\nRun on %s with:\n\n```\n%s\n```\n", r.Date.UTC().Format("2006-01-02 15:04 MST"), r.Command)
	return b.String()
}

// writeStory quotes the text the first passing CI cell wrote.
func writeStory(b *strings.Builder, cells []Cell) {
	for _, c := range cells {
		if c.Status != Pass || c.Text == "" {
			continue
		}
		fmt.Fprintf(b, "\n**The story** (%s on %s, greedy, prompt and %d tokens; equal to the published text):\n\n", c.Model, c.Column(), c.Tokens)
		for _, line := range strings.Split(c.Prompt+c.Text, "\n") {
			fmt.Fprintf(b, "> %s\n", line)
		}
		return
	}
}

// Render renders the whole marked section for a run; the sub-section the run
// does not cover is taken from prev (the current MODEL_SUPPORT.md), so a tiny
// CI run never erases real-model results and the reverse.
func Render(r Run, prev []byte) string {
	var b strings.Builder
	b.WriteString(BeginMatrix + "\n")
	b.WriteString("Legend: ✅ passed · ❌ failed (reason) · ⏭ skipped (reason)\n")
	for _, sec := range sections {
		part := RenderSection(r, sec.s)
		if len(filterCells(r.Cells, sec.s)) == 0 {
			if old, ok := between(prev, sec.begin, sec.end); ok {
				part = old
			}
		}
		b.WriteString("\n### " + sec.heading + "\n\n" + sec.begin + "\n" + part + sec.end + "\n")
	}
	b.WriteString(EndMatrix)
	return b.String()
}

// UpdateDocument replaces the marked section of doc with the run's section.
func UpdateDocument(doc []byte, r Run) ([]byte, error) {
	start := bytes.Index(doc, []byte(BeginMatrix))
	end := bytes.Index(doc, []byte(EndMatrix))
	if start < 0 || end < start {
		return nil, fmt.Errorf("MODEL_SUPPORT.md has no %s … %s section", BeginMatrix, EndMatrix)
	}
	var out bytes.Buffer
	out.Write(doc[:start])
	out.WriteString(Render(r, doc[start:end]))
	out.Write(doc[end+len(EndMatrix):])
	return out.Bytes(), nil
}

func between(doc []byte, begin, end string) (string, bool) {
	i := bytes.Index(doc, []byte(begin))
	j := bytes.Index(doc, []byte(end))
	if i < 0 || j < i {
		return "", false
	}
	return strings.TrimPrefix(string(doc[i+len(begin):j]), "\n"), true
}

func mark(c Cell, ok bool) string {
	switch {
	case !ok:
		return "—"
	case c.Status == Pass:
		return "✅" + notes(c, "")
	case c.Status == Skip:
		return "⏭ (" + escape(c.Reason) + ")"
	default:
		return "❌" + notes(c, escape(c.Reason))
	}
}

// notes adds to a mark what the run did to get it: reused from an earlier
// run (-resume), or SSH redials and a retry.
func notes(c Cell, reason string) string {
	var ns []string
	if reason != "" {
		ns = append(ns, reason)
	}
	if c.ReusedFrom != nil {
		ns = append(ns, "reused from "+c.ReusedFrom.UTC().Format("2006-01-02 15:04"))
	}
	switch {
	case c.Retried:
		ns = append(ns, fmt.Sprintf("retried after %d SSH redial(s)", c.Redials))
	case c.Redials > 0:
		ns = append(ns, fmt.Sprintf("%d SSH redial(s)", c.Redials))
	}
	if len(ns) == 0 {
		return ""
	}
	return " (" + strings.Join(ns, "; ") + ")"
}

// escape keeps a reason on one table line.
func escape(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "\\|")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

func filterCells(cells []Cell, sec Section) []Cell {
	var out []Cell
	for _, c := range cells {
		if c.Section() == sec {
			out = append(out, c)
		}
	}
	return out
}

func columns(cells []Cell) []string {
	var cols []string
	for _, c := range cells {
		if !slices.Contains(cols, c.Column()) {
			cols = append(cols, c.Column())
		}
	}
	return cols
}

func modelOrder(cells []Cell) []string {
	var ms []string
	for _, c := range cells {
		if !slices.Contains(ms, c.Model) {
			ms = append(ms, c.Model)
		}
	}
	return ms
}

func archOrder(cells []Cell) []string {
	var as []string
	for _, c := range cells {
		if !slices.Contains(as, c.Architecture) {
			as = append(as, c.Architecture)
		}
	}
	return as
}

func firstCell(cells []Cell, model string) Cell {
	for _, c := range cells {
		if c.Model == model {
			return c
		}
	}
	return Cell{}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%d KiB", n>>10)
	}
}
