package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rbee-go/rbee/hive/hfhub"
	"github.com/rbee-go/rbee/hive/hubmirror"
)

func (a *app) hubServe(args []string) int {
	c := command{name: "hub serve", args: "DIR [--addr HOST:PORT] [--token TOKEN] [real-Hub behaviours]",
		summary: "Serve DIR/<org>/<name>/<files> as a Hugging Face Hub compatible mirror (revision, tree and\n" +
			"resolve endpoints, Range, ETag). Point HF_ENDPOINT of every pool at it so models cross the\n" +
			"internet once. Listens on loopback unless --addr says otherwise (e.g. 0.0.0.0:8088 for a LAN).\n" +
			"The other flags make it behave like huggingface.co does, to rehearse a real download:\n" +
			"a CDN for LFS files on another address, gated and renamed repos, relative redirects, 429s.",
		example: "rbee-hive hub serve /srv/hf-mirror --addr 0.0.0.0:8088 --token s3cret\n" +
			"HF_ENDPOINT=http://mirror.lan:8088 HF_TOKEN=s3cret rbee-hive models download qwen-0.5b"}
	fs := a.flags(c)
	addr := fs.String("addr", hubmirror.DefaultAddr, "listen address HOST:PORT")
	token := fs.String("token", "", "require 'Authorization: Bearer TOKEN' (clients set HF_TOKEN)")
	var hub hubFlags
	hub.add(fs)
	if ok, code := a.parse(fs, c, args, 1); !ok {
		return code
	}
	dir := fs.Arg(0)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return a.fail(&hintError{msg: fmt.Sprintf("hub serve: %s is not a directory", dir),
			hint: "give a folder laid out as DIR/<org>/<name>/<files>"})
	}
	m := hubmirror.New(dir, hubmirror.WithToken(*token))
	if err := hub.apply(m); err != nil {
		return a.usageError("hub serve: "+err.Error(), "run 'rbee-hive hub serve --help'")
	}
	// Hash everything before listening, so the first client does not wait.
	fmt.Fprintf(a.stderr, "hashing the files under %s (once; cached while serving)...\n", dir)
	start := time.Now()
	repos, err := m.Scan()
	if err != nil {
		return a.fail(fmt.Errorf("hub serve: %w", err))
	}
	srv, err := hubmirror.Listen(m, *addr)
	if err != nil {
		return a.fail(&hintError{msg: err.Error(), hint: "choose another --addr HOST:PORT"})
	}
	defer srv.Close()
	if hub.cdn != "" {
		cdnURL, err := srv.StartCDN(hub.cdn, 0)
		if err != nil {
			return a.fail(&hintError{msg: err.Error(), hint: "choose another --cdn HOST:PORT"})
		}
		fmt.Fprintf(a.stderr, "LFS files redirect to the CDN on %s\n", cdnURL)
	}
	url := srv.URL
	if host, port, err := net.SplitHostPort(srv.Addr().String()); err == nil && net.ParseIP(host).IsUnspecified() {
		url = "http://<this host's address>:" + port
	}
	if a.json {
		list := make([]map[string]any, len(repos))
		for i, r := range repos {
			list[i] = map[string]any{"id": r.ID, "commit": r.Commit, "files": len(r.Files)}
		}
		a.printJSON(map[string]any{"url": srv.URL, "dir": dir, "repos": list})
	} else {
		fmt.Fprintf(a.stdout, "serving %s as a Hugging Face mirror on %s (%d repos, hashed in %.1f s)\n",
			dir, srv.URL, len(repos), time.Since(start).Seconds())
		for _, r := range repos {
			var size int64
			for _, f := range r.Files {
				size += f.Size
			}
			fmt.Fprintf(a.stdout, "  %s: %d files, %s, commit %s\n", r.ID, len(r.Files), hfhub.HumanBytes(size), r.Commit[:12])
		}
		fmt.Fprintf(a.stdout, "use it with: export HF_ENDPOINT=%s\n", url)
		if *token != "" {
			fmt.Fprintln(a.stdout, "clients need the token: export HF_TOKEN=<the --token value>")
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	return 0
}
