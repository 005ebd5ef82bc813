package main

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"text/tabwriter"

	"github.com/rbee-go/rbee/internal/cli"
	"github.com/rbee-go/rbee/keeper"
)

func (a *app) preflight(args []string) int {
	var hosts []string
	c := specPreflight()
	if ok, code := a.parse(a.flags(c, &hosts), c, args, 0); !ok {
		return code
	}
	k, err := a.keeper()
	if err != nil {
		return a.fail(err)
	}
	defer k.Close()
	ctx, cancel := signalContext()
	defer cancel()
	reports := k.PreflightAll(ctx, hosts)
	code := 0
	for _, r := range reports {
		if !r.OK {
			code = 1
		}
	}
	if a.json {
		var v any = reports
		if len(reports) == 1 {
			v = reports[0]
		}
		if err := cli.WriteJSON(a.stdout, v); err != nil {
			return a.fail(err)
		}
		return code
	}
	var mu sync.Mutex
	for _, r := range reports {
		var w io.Writer = a.stdout
		var pw *keeper.PrefixWriter
		if len(reports) > 1 {
			pw = keeper.NewPrefixWriter(a.stdout, r.Host, &mu)
			w = pw
		}
		var buf bytes.Buffer
		a.writePreflight(&buf, r)
		_, _ = w.Write(buf.Bytes())
		if pw != nil {
			_ = pw.Flush()
		}
	}
	return code
}

func (a *app) writePreflight(w io.Writer, r keeper.PreflightReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if r.Transport != "" {
		fmt.Fprintf(tw, "transport\t%s, round trip %d ms\n", r.Transport, r.RoundTripMS)
	}
	if s := r.SSH; s != nil {
		fmt.Fprintf(tw, "ssh\tok, %s@%s, handshake %.1f ms, network round trip %.2f ms\n", s.User, s.Addr, s.HandshakeMS, s.RoundTripMS)
	}
	if r.HiveVersion != "" {
		fmt.Fprintf(tw, "rbee-hive\t%s\n", r.HiveVersion)
	}
	_ = tw.Flush()
	if r.Status != nil {
		st := *r.Status
		st.Warnings = nil // listed below with the preflight's own
		_ = a.style().WriteStatus(w, st)
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range r.Problems {
		fmt.Fprintf(tw, "problem\t%s\n", p)
	}
	for _, x := range r.Warnings {
		fmt.Fprintf(tw, "warning\t%s\n", x)
	}
	result := "ok"
	if !r.OK {
		result = fmt.Sprintf("FAILED (%d problem(s))", len(r.Problems))
	}
	fmt.Fprintf(tw, "preflight\t%s\n", result)
	_ = tw.Flush()
}
