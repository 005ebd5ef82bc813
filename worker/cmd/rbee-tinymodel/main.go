// Command rbee-tinymodel writes the deterministic tiny test models:
//
//	rbee-tinymodel --arch llama --out DIR [--seed N]
//	rbee-tinymodel --all DIR [--seed N]   # DIR/rbee-testing/tiny-{llama,qwen2,phi3,mistral} and stories260K{,-GGUF}
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/rbee-go/rbee/internal/cli"
	"github.com/rbee-go/rbee/worker/realmodel"
	"github.com/rbee-go/rbee/worker/tinymodel"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := pflag.NewFlagSet("rbee-tinymodel", pflag.ContinueOnError)
	arch := fs.String("arch", "", "architecture: llama, qwen2, phi3 or mistral")
	out := fs.String("out", "", "model folder to write (with --arch)")
	all := fs.String("all", "", "write all four tiny repos and the two stories260K repos (the matrix's tiny set) under DIR/"+tinymodel.Org+"/")
	seed := fs.Int64("seed", tinymodel.DefaultSeed, "random seed (same seed, same bytes)")
	fs.SetOutput(os.Stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	switch {
	case *all != "" && (*arch != "" || *out != ""):
		return usage("--all cannot be combined with --arch/--out")
	case *all != "":
		if err := tinymodel.GenerateAll(*all, *seed); err != nil {
			return fail(err)
		}
		if err := realmodel.WriteHub(*all); err != nil {
			return fail(err)
		}
		for _, r := range tinymodel.Repos() {
			fmt.Println(filepath.Join(*all, filepath.FromSlash(r.Repo)))
		}
		for _, r := range []string{realmodel.HFRepo, realmodel.GGUFRepo} {
			fmt.Println(filepath.Join(*all, filepath.FromSlash(r)))
		}
		return 0
	case *arch == "" || *out == "":
		return usage("give --arch and --out, or --all DIR")
	}
	if err := tinymodel.Generate(*out, tinymodel.Arch(*arch), *seed); err != nil {
		return fail(err)
	}
	fmt.Println(*out)
	return 0
}

func usage(msg string) int {
	return cli.UsageError(os.Stderr, msg, "rbee-tinymodel --arch llama --out DIR [--seed N]  |  rbee-tinymodel --all DIR [--seed N]")
}

func fail(err error) int { return cli.Fail(os.Stderr, err) }
