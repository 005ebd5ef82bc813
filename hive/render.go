package hive

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/rbee-go/rbee/hive/catalog"
	"github.com/rbee-go/rbee/hive/workers"
)

// Style decides how text output looks; both CLIs render through it so the
// keeper shows a remote pool exactly as the pool's own hive would.
type Style struct {
	Color bool // ANSI bold headers (only on a terminal, never with NO_COLOR)
}

func (s Style) header(cols ...string) string {
	h := strings.Join(cols, "\t")
	if s.Color {
		return "\x1b[1m" + h + "\x1b[0m"
	}
	return h
}

// WriteStatus prints a status as aligned "key  value" lines.
func (s Style) WriteStatus(w io.Writer, st Status) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	gpus := "none"
	if len(st.GPUs) > 0 {
		var parts []string
		for _, g := range st.GPUs {
			parts = append(parts, fmt.Sprintf("%d: %s (%s free of %s)", g.Index, g.Name, HumanBytes(g.MemoryFreeBytes), HumanBytes(g.MemoryTotalBytes)))
		}
		gpus = strings.Join(parts, "; ")
	}
	rows := [][2]string{
		{"pool", st.PoolID},
		{"hostname", st.Hostname},
		{"version", st.Version},
		{"os/arch", st.OS + "/" + st.Arch},
		{"cpus", fmt.Sprint(st.CPUs)},
		{"ram", fmt.Sprintf("%s total, %s available", HumanBytes(st.RAMTotalBytes), HumanBytes(st.RAMAvailableBytes))},
		{"disk", fmt.Sprintf("%s free (%s)", HumanBytes(st.DiskFreeBytes), st.Home)},
		{"backends", strings.Join(st.Backends, ", ")},
		{"gpus", gpus},
		{"models", fmt.Sprintf("%d registered, %d downloaded", st.Models.Registered, st.Models.Downloaded)},
		{"workers", fmt.Sprint(st.Workers)},
		{"binaries", workerBins(st.WorkerBinaries)},
	}

	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", r[0], r[1])
	}
	for _, warn := range st.Warnings {
		fmt.Fprintf(tw, "warning\t%s\n", warn)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// Long lines, so outside the aligned table.
	for _, b := range catalog.AllBackends() {
		if p, ok := st.WorkerProfiles[string(b)]; ok {
			if _, err := fmt.Fprintf(w, "worker %s: %s\n", b, profileLine(p)); err != nil {
				return err
			}
		}
	}
	return nil
}

// WriteCatalog prints the catalog as a table (or a hint when it is empty).
func (s Style) WriteCatalog(w io.Writer, c *catalog.Catalog) error {
	if len(c.Models) == 0 {
		_, err := fmt.Fprintln(w, "no models registered (add one with: rbee-hive models register ID --name NAME --repo ORG/NAME --architecture ARCH)")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, s.header("ID", "NAME", "ARCH", "BACKENDS", "REPO", "DOWNLOADED", "SIZE"))
	for _, m := range c.Models {
		size := "-"
		if m.SizeBytes > 0 {
			size = HumanBytes(uint64(m.SizeBytes))
		}
		dl := "no"
		if m.Downloaded {
			dl = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.Name, m.Architecture, joinBackends(m.Backends), m.Metadata.Repo, dl, size)
	}
	return tw.Flush()
}

// WriteModelList prints downloaded models with their paths and sizes.
func (s Style) WriteModelList(w io.Writer, models []catalog.Model) error {
	if len(models) == 0 {
		_, err := fmt.Fprintln(w, "no models downloaded (download one with: rbee-hive models download ID)")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, s.header("ID", "SIZE", "FILES", "PATH"))
	for _, m := range models {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", m.ID, HumanBytes(uint64(max(m.SizeBytes, 0))), len(m.Metadata.Files), m.Path)
	}
	return tw.Flush()
}

func workerBins(bins map[string]string) string {
	var parts []string
	for _, b := range catalog.AllBackends() {
		p, ok := bins[string(b)]
		if !ok {
			continue
		}
		if p == "" {
			p = "not found"
		}
		parts = append(parts, string(b)+": "+p)
	}
	return strings.Join(parts, "; ")
}

// profileLine is one backend's resolved worker profile and where its
// values came from.
func profileLine(p workers.Profile) string {
	bin := p.Path
	if bin == "" {
		bin = p.Bin + " (" + p.BinError + ")"
	}
	line := fmt.Sprintf("%s: %s %s, memory ×%g [profile: %s; bin: %s; args: %s; memory_factor: %s]",
		p.Name, bin, strings.Join(p.Args, " "), p.MemoryFactor,
		p.Sources["profile"], p.Sources["bin"], p.Sources["args"], p.Sources["memory_factor"])
	if len(p.Env) > 0 {
		line += fmt.Sprintf(" env %v [%s]", p.Env, p.Sources["env"])
	}
	if p.Error != "" && p.BinError == "" {
		line += "; error: " + p.Error
	}
	return line
}

func joinBackends(bs []catalog.Backend) string {
	parts := make([]string, len(bs))
	for i, b := range bs {
		parts[i] = string(b)
	}
	return strings.Join(parts, ",")
}
