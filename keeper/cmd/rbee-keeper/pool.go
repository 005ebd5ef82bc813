package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/rbee-go/rbee/hive"
	"github.com/rbee-go/rbee/hive/catalog"
	"github.com/rbee-go/rbee/internal/cli"
	"github.com/rbee-go/rbee/keeper"
)

func (a *app) poolStatus(args []string) int {
	var hosts []string
	c := specStatus()
	if ok, code := a.parse(a.flags(c, &hosts), c, args, 0); !ok {
		return code
	}
	return a.runTyped(hosts, []string{"status"}, func(w io.Writer, r keeper.Result) error {
		var st hive.Status
		if err := r.Decode(&st); err != nil {
			return err
		}
		return a.style().WriteStatus(w, st)
	})
}

func (a *app) poolModelsCatalog(args []string) int {
	var hosts []string
	c := specCatalog()
	if ok, code := a.parse(a.flags(c, &hosts), c, args, 0); !ok {
		return code
	}
	return a.runTyped(hosts, []string{"models", "catalog"}, func(w io.Writer, r keeper.Result) error {
		var cat catalog.Catalog
		if err := r.Decode(&cat); err != nil {
			return err
		}
		return a.style().WriteCatalog(w, &cat)
	})
}

func (a *app) poolModelsList(args []string) int {
	var hosts []string
	c := specList()
	if ok, code := a.parse(a.flags(c, &hosts), c, args, 0); !ok {
		return code
	}
	return a.runTyped(hosts, []string{"models", "list"}, func(w io.Writer, r keeper.Result) error {
		var ms []catalog.Model
		if err := r.Decode(&ms); err != nil {
			return err
		}
		return a.style().WriteModelList(w, ms)
	})
}

// passthrough runs a hive command whose own flags the keeper forwards
// unchanged; only the keeper's flags (--host, --pools, ...) are taken out.
func (a *app) passthrough(c command, hiveCmd, args []string) int {
	mine, theirs := splitKeeperArgs(args)
	var hosts []string
	if ok, code := a.parse(a.flags(c, &hosts), c, mine, 0); !ok {
		return code
	}
	hiveArgs := append(append([]string{}, hiveCmd...), theirs...)
	if a.noColor {
		hiveArgs = append(hiveArgs, "--no-color")
	}
	return a.runStreaming(hosts, hiveArgs)
}

// splitKeeperArgs separates the keeper's own flags from those of the hive.
func splitKeeperArgs(args []string) (mine, theirs []string) {
	valued := map[string]bool{"--host": true, "--pools": true, "--known-hosts": true, "--connect-timeout": true, "--ssh-config": true}
	bools := map[string]bool{"--json": true, "--no-color": true, "--accept-new-host-key": true, "-h": true, "--help": true, "--version": true}
	for i := 0; i < len(args); i++ {
		x := args[i]
		if x == "--" {
			return mine, append(theirs, args[i:]...)
		}
		name, _, hasValue := strings.Cut(x, "=")
		switch {
		case valued[name]:
			mine = append(mine, x)
			if !hasValue && i+1 < len(args) {
				i++
				mine = append(mine, args[i])
			}
		case bools[name]:
			mine = append(mine, x)
		default:
			theirs = append(theirs, x)
		}
	}
	return mine, theirs
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// runStreaming runs hiveArgs on every host: one host streams as is (with
// --json, exactly the hive's JSON); several hosts stream with [host]
// prefixes, or with --json print one array of per-host results.
func (a *app) runStreaming(hosts, hiveArgs []string) int {
	if a.json {
		hiveArgs = append(hiveArgs, "--json")
	}
	return a.fanOut(hosts, a.json, func(ctx context.Context, k *keeper.Keeper, host string, s keeper.Streams) keeper.Result {
		return k.RunOne(ctx, host, hiveArgs, s)
	})
}

// fanOut runs op on every host (see runStreaming for the output rules).
func (a *app) fanOut(hosts []string, jsonArray bool, op func(context.Context, *keeper.Keeper, string, keeper.Streams) keeper.Result) int {
	k, err := a.keeper()
	if err != nil {
		return a.fail(err)
	}
	defer k.Close()
	ctx, cancel := signalContext()
	defer cancel()
	if len(hosts) == 1 {
		r := op(ctx, k, hosts[0], keeper.Streams{Stdout: a.stdout, Stderr: a.stderr})
		if r.Err != nil {
			cli.PrintError(a.stderr, r.Err)
		}
		return r.ExitCode
	}
	results := make([]keeper.Result, len(hosts))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if jsonArray {
				results[i] = op(ctx, k, h, keeper.Streams{})
				return
			}
			out, errw := keeper.NewPrefixWriter(a.stdout, h, &mu), keeper.NewPrefixWriter(a.stderr, h, &mu)
			results[i] = op(ctx, k, h, keeper.Streams{Stdout: out, Stderr: errw})
			_ = out.Flush()
			if results[i].Err != nil {
				cli.PrintError(errw, results[i].Err)
			}
			_ = errw.Flush()
		}()
	}
	wg.Wait()
	if jsonArray {
		return a.printResults(results)
	}
	return keeper.ExitCode(results)
}

// runTyped fetches the hive's --json output and renders the decoded value
// as text (the keeper never scrapes the hive's tables). With --json it is
// runStreaming.
func (a *app) runTyped(hosts, hiveArgs []string, render func(io.Writer, keeper.Result) error) int {
	if a.json {
		return a.runStreaming(hosts, hiveArgs)
	}
	k, err := a.keeper()
	if err != nil {
		return a.fail(err)
	}
	defer k.Close()
	ctx, cancel := signalContext()
	defer cancel()
	results := k.RunAll(ctx, hosts, append(hiveArgs, "--json"), nil)
	code := 0
	var mu sync.Mutex
	for _, r := range results {
		out, errw := a.stdout, a.stderr
		var po, pe *keeper.PrefixWriter
		if len(hosts) > 1 {
			po, pe = keeper.NewPrefixWriter(a.stdout, r.Host, &mu), keeper.NewPrefixWriter(a.stderr, r.Host, &mu)
			out, errw = po, pe
		}
		var buf bytes.Buffer
		if err := render(&buf, r); err != nil {
			cli.PrintError(errw, err)
			code = max(code, r.ExitCode, 1)
		} else {
			_, _ = out.Write(buf.Bytes())
		}
		if po != nil {
			_ = po.Flush()
			_ = pe.Flush()
		}
	}
	return code
}

func (a *app) printResults(results []keeper.Result) int {
	arr := make([]keeper.HostJSON, len(results))
	for i, r := range results {
		arr[i] = r.ToJSON()
	}
	if err := cli.WriteJSON(a.stdout, arr); err != nil {
		return a.fail(err)
	}
	return keeper.ExitCode(results)
}
