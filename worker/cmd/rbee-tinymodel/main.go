// Command rbee-tinymodel writes the deterministic tiny test models:
//
//	rbee-tinymodel --arch llama --out DIR [--seed N]
//	rbee-tinymodel --all DIR [--seed N]   # DIR/rbee-testing/tiny-{llama,qwen2,phi3,mistral} and stories260K{,-GGUF}
//
// With --gguf F32,Q8_0,Q4_K it writes GGUF files instead: DIR/tiny-llama-Q8_0.gguf
// (with --arch/--out), or DIR/rbee-testing/tiny-*-GGUF/ (with --all).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/rbee-go/rbee/internal/cli"
	"github.com/rbee-go/rbee/worker/quant"
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
	ggufTypes := fs.String("gguf", "", "write GGUF files in these tensor types instead, e.g. F32,Q8_0,Q4_K")
	fs.SetOutput(os.Stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var types []quant.Type
	if fs.Changed("gguf") {
		var err error
		if types, err = tinymodel.ParseGGUFTypes(*ggufTypes); err != nil {
			return usage(err.Error())
		}
	}
	switch {
	case *all != "" && (*arch != "" || *out != ""):
		return usage("--all cannot be combined with --arch/--out")
	case *all != "" && types != nil:
		return printed(tinymodel.GenerateAllGGUF(*all, *seed, types))
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
	case types != nil:
		return printed(tinymodel.GenerateGGUF(*out, tinymodel.Arch(*arch), *seed, types))
	}
	if err := tinymodel.Generate(*out, tinymodel.Arch(*arch), *seed); err != nil {
		return fail(err)
	}
	fmt.Println(*out)
	return 0
}

// printed prints the written paths, one a line.
func printed(paths []string, err error) int {
	if err != nil {
		return fail(err)
	}
	for _, p := range paths {
		fmt.Println(p)
	}
	return 0
}

func usage(msg string) int {
	return cli.UsageError(os.Stderr, msg, "rbee-tinymodel --arch llama --out DIR [--seed N] [--gguf F32,Q8_0,Q4_K]  |  rbee-tinymodel --all DIR [--seed N] [--gguf ...]")
}

func fail(err error) int { return cli.Fail(os.Stderr, err) }
