package signoff

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rbee-go/rbee/keeper/matrix"
)

// judgeCells judges matrix cells. What the run did not cover (a backend no
// pool offered, a model not in the run) is NOT RUN, never a pass.
func judgeCells(rule CellRule, run *matrix.Run) part {
	if run == nil {
		return part{verdict: NotRun, reasons: []string{"the matrix did not run"}}
	}
	specs, err := matrix.ParsePools(run.Pools)
	if err != nil {
		return part{verdict: Fail, reasons: []string{fmt.Sprintf("matrix results: %v", err)}}
	}
	models := runModels(run)
	p := part{verdict: Pass}
	for _, m := range rule.Models {
		var sub part
		switch {
		case !slices.Contains(models, m):
			sub = part{verdict: NotRun}
			for _, b := range rule.Backends {
				if !slices.Contains(offered(specs), b) {
					sub.reasons = append(sub.reasons, notRunReason(m, b, specs))
				}
			}
			sub.reasons = append(sub.reasons, fmt.Sprintf("%s was not in the matrix run (models: %s; tiny models never stand in for real ones)", m, strings.Join(models, ",")))
		case rule.Need == NeedDownloaded:
			sub = judgeDownloaded(m, specs, run.Cells)
		default:
			sub = judgePassed(m, rule.Backends, specs, run.Cells)
		}
		p = merge(p, sub)
	}
	return p
}

func merge(a, b part) part {
	a.evidence = append(a.evidence, b.evidence...)
	a.reasons = append(a.reasons, b.reasons...)
	switch {
	case a.verdict == Fail || b.verdict == Fail:
		a.verdict = Fail
	case a.verdict == NotRun || b.verdict == NotRun:
		a.verdict = NotRun
	}
	return a
}

func runModels(run *matrix.Run) []string {
	var ms []string
	for _, c := range run.Cells {
		if !slices.Contains(ms, c.Model) {
			ms = append(ms, c.Model)
		}
	}
	return ms
}

// judgePassed: every cell of model m on each backend asked for passed.
func judgePassed(m string, backends []string, specs []matrix.PoolSpec, cells []matrix.Cell) part {
	if len(backends) == 0 {
		backends = offered(specs)
	}
	p := part{verdict: Pass}
	for _, b := range backends {
		var got []matrix.Cell
		for _, c := range cells {
			if c.Model == m && c.Backend == b {
				got = append(got, c)
			}
		}
		if len(got) == 0 {
			p = merge(p, part{verdict: NotRun, reasons: []string{notRunReason(m, b, specs)}})
			continue
		}
		for _, c := range got {
			id := c.Pool + "/" + c.Backend + "/" + c.Model
			if c.Status != matrix.Pass {
				p = merge(p, part{verdict: Fail, reasons: []string{fmt.Sprintf("%s %s: %s", id, c.Status, c.Reason)}})
				continue
			}
			p.evidence = append(p.evidence, fmt.Sprintf("cell %s passed (%d tokens, %.1f tok/s)", id, c.Tokens, c.DecodeTokS))
		}
	}
	return p
}

// judgeDownloaded: model m was downloaded on every pool of the run.
func judgeDownloaded(m string, specs []matrix.PoolSpec, cells []matrix.Cell) part {
	p := part{verdict: Pass}
	for _, s := range specs {
		var got []matrix.Cell
		for _, c := range cells {
			if c.Model == m && c.Pool == s.Dest {
				got = append(got, c)
			}
		}
		if len(got) == 0 {
			p = merge(p, part{verdict: NotRun, reasons: []string{fmt.Sprintf("no cell of %s ran on pool %s", m, s.Dest)}})
			continue
		}
		i := slices.IndexFunc(got, downloaded)
		if i < 0 {
			p = merge(p, part{verdict: Fail, reasons: []string{fmt.Sprintf("%s was not downloaded on pool %s: %s", m, s.Dest, got[0].Reason)}})
			continue
		}
		p.evidence = append(p.evidence, fmt.Sprintf("%s downloaded on pool %s (%d bytes)", m, s.Dest, got[i].ModelBytes))
	}
	return p
}

// downloaded: the cell's download step finished.
func downloaded(c matrix.Cell) bool { return c.Downloaded || c.Status == matrix.Pass }

func offered(specs []matrix.PoolSpec) []string {
	var bs []string
	for _, s := range specs {
		for _, b := range s.Backends {
			if !slices.Contains(bs, b) {
				bs = append(bs, b)
			}
		}
	}
	return bs
}

func notRunReason(m, backend string, specs []matrix.PoolSpec) string {
	if !slices.Contains(offered(specs), backend) {
		var ps []string
		for _, s := range specs {
			ps = append(ps, s.Dest+":"+strings.Join(s.Backends, "+"))
		}
		return fmt.Sprintf("no pool of the run offered %s (pools: %s)", backend, strings.Join(ps, ", "))
	}
	return fmt.Sprintf("no cell of %s ran on %s", m, backend)
}
