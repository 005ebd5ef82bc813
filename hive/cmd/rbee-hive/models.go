package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/rbee-go/rbee/hive"
	"github.com/rbee-go/rbee/hive/catalog"
)

func (a *app) modelsRegister(args []string) int {
	c := command{name: "models register",
		args:    "ID --name NAME --repo ORG/NAME --architecture ARCH [--backends cpu,metal,cuda] [--revision REV] [--include GLOB]...",
		summary: "Add a model to the catalog of this pool (its files are fetched by 'models download').",
		example: "rbee-hive models register qwen-0.5b --name 'Qwen2.5 0.5B Instruct' \\\n    --repo Qwen/Qwen2.5-0.5B-Instruct --architecture qwen --backends cpu,cuda"}
	fs := a.flags(c)
	var req hive.RegisterRequest
	var backends string
	fs.StringVar(&req.Name, "name", "", "display name (required)")
	fs.StringVar(&req.Repo, "repo", "", "Hugging Face repo ORG/NAME (required)")
	fs.StringVar(&req.Architecture, "architecture", "", "model architecture, e.g. llama, qwen, phi, mistral (required)")
	fs.StringVar(&backends, "backends", "cpu,metal,cuda", "backends the model may run on")
	fs.StringVar(&req.Revision, "revision", "main", "repo revision (branch, tag or commit)")
	fs.StringArrayVar(&req.Include, "include", nil, "file glob to download (repeatable; default *.safetensors, *.json, tokenizer.model); for a GGUF repo, one that matches exactly one .gguf file, e.g. '*Q4_K_M.gguf'")
	if ok, code := a.parse(fs, c, args, 1); !ok {
		return code
	}
	req.ID = fs.Arg(0)
	for _, f := range []struct{ flag, val string }{{"name", req.Name}, {"repo", req.Repo}, {"architecture", req.Architecture}} {
		if strings.TrimSpace(f.val) == "" {
			return a.usageError("models register: --"+f.flag+" is required", "run 'rbee-hive models register --help'")
		}
	}
	var err error
	if req.Backends, err = catalog.ParseBackends(backends); err != nil {
		return a.fail(err)
	}
	m, err := a.hive().Register(context.Background(), req)
	if err != nil {
		return a.fail(err)
	}
	if a.json {
		return a.printJSON(m)
	}
	fmt.Fprintf(a.stdout, "registered %s (%s, %s, backends %s)\n", m.ID, m.Metadata.Repo, m.Architecture, backendList(m.Backends))
	return 0
}

func (a *app) modelsUnregister(args []string) int {
	c := command{name: "models unregister", args: "ID [--delete-files]",
		summary: "Remove a model from the catalog; --delete-files also removes models/ID/.",
		example: "rbee-hive models unregister phi3 --delete-files"}
	fs := a.flags(c)
	deleteFiles := fs.Bool("delete-files", false, "also delete the model's files under the home")
	if ok, code := a.parse(fs, c, args, 1); !ok {
		return code
	}
	m, err := a.hive().Unregister(context.Background(), fs.Arg(0), *deleteFiles)
	if err != nil {
		return a.fail(err)
	}
	if a.json {
		return a.printJSON(m)
	}
	fmt.Fprintf(a.stdout, "unregistered %s\n", m.ID)
	if *deleteFiles {
		fmt.Fprintf(a.stdout, "deleted %s\n", a.hive().Catalog().ModelDir(m.ID))
	}
	return 0
}

func (a *app) modelsCatalog(args []string) int {
	c := command{name: "models catalog", args: "[--json]",
		summary: "Show the model catalog; --json prints the catalog document (models/catalog.json) itself.",
		example: "rbee-hive models catalog\nrbee-hive models catalog --json"}
	fs := a.flags(c)
	if ok, code := a.parse(fs, c, args, 0); !ok {
		return code
	}
	cat, err := a.hive().LoadCatalog(context.Background())
	if err != nil {
		return a.fail(err)
	}
	if a.json {
		return a.printJSON(cat)
	}
	if err := a.style().WriteCatalog(a.stdout, cat); err != nil {
		return a.fail(err)
	}
	return 0
}

func (a *app) modelsList(args []string) int {
	c := command{name: "models list", args: "[--json]",
		summary: "List the downloaded models with their paths and sizes.",
		example: "rbee-hive models list\nrbee-hive models list --json"}
	fs := a.flags(c)
	if ok, code := a.parse(fs, c, args, 0); !ok {
		return code
	}
	models, err := a.hive().ListDownloaded(context.Background())
	if err != nil {
		return a.fail(err)
	}
	if a.json {
		return a.printJSON(models)
	}
	if err := a.style().WriteModelList(a.stdout, models); err != nil {
		return a.fail(err)
	}
	return 0
}

func backendList(bs []catalog.Backend) string {
	s := make([]string, len(bs))
	for i, b := range bs {
		s[i] = string(b)
	}
	return strings.Join(s, ",")
}
