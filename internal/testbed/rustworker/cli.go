package rustworker

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Binary names of the three builds.
const (
	BinMain  = "llm-worker-rbee"
	BinCUDA  = "llm-worker-rbee-cuda"
	BinMetal = "llm-worker-rbee-metal"
)

// Binaries lists the three builds.
func Binaries() []string { return []string{BinMain, BinCUDA, BinMetal} }

// Build is what a binary was compiled for.
type Build struct {
	Name    string // binary name
	Backend string // "cpu", "cuda", "metal"
}

// BuildOf maps a binary name to its build; unknown names are the main one.
func BuildOf(name string) Build {
	switch name {
	case BinCUDA:
		return Build{Name: name, Backend: "cuda"}
	case BinMetal:
		return Build{Name: name, Backend: "metal"}
	}
	return Build{Name: BinMain, Backend: "cpu"}
}

// deviceFlag is the GPU builds' extra flag ("" for the main build).
func (b Build) deviceFlag() string {
	if b.Backend == "cpu" {
		return ""
	}
	return b.Backend + "-device"
}

// Args is a parsed command line.
type Args struct {
	WorkerID    string
	Model       string
	Port        int
	CallbackURL string
	Device      int
}

// flagSpec is one clap argument: long name, value name, help.
type flagSpec struct{ long, value, help string }

// command is clap's #[command(name, about)] of each build's Args.
func (b Build) command() (name, about string) {
	switch b.Backend {
	case "cuda":
		return "llorch-cuda-candled", "CUDA GPU Candle-based multi-model worker daemon"
	case "metal":
		return "llorch-metal-candled", "Apple Metal GPU Candle-based multi-model worker daemon (pre-release)"
	}
	return "llm-worker-rbee", "Candle-based Llama-2 worker daemon for llama-orch"
}

func (b Build) specs() []flagSpec {
	model := "Model file path (GGUF or `SafeTensors` format)"
	if b.Backend == "cpu" {
		model = "Model file path (GGUF format)"
	}
	s := []flagSpec{
		{"worker-id", "WORKER_ID", "Worker ID (UUID) - assigned by pool-managerd"},
		{"model", "MODEL", model},
		{"port", "PORT", "HTTP server port - assigned by pool-managerd"},
		{"callback-url", "CALLBACK_URL", "Pool manager callback URL - where to report ready status"},
	}
	if d := b.deviceFlag(); d != "" {
		title := map[string]string{"cuda": "CUDA", "metal": "Metal"}[b.Backend]
		s = append(s, flagSpec{d, strings.ToUpper(strings.ReplaceAll(d, "-", "_")), title + " device ID (default: 0) [default: 0]"})
	}
	return s
}

func (b Build) usage() string {
	name, _ := b.command()
	u := "Usage: " + name
	if b.deviceFlag() != "" {
		u += " [OPTIONS]"
	}
	for _, s := range b.specs()[:4] {
		u += " --" + s.long + " <" + s.value + ">"
	}
	return u
}

// Help is clap's --help output (the Args have no #[command(version)], so
// there is no --version).
func (b Build) Help() string {
	_, about := b.command()
	var sb strings.Builder
	sb.WriteString(about + "\n\n" + b.usage() + "\n\nOptions:\n")
	for _, s := range b.specs() {
		fmt.Fprintf(&sb, "      %-30s %s\n", "--"+s.long+" <"+s.value+">", s.help)
	}
	fmt.Fprintf(&sb, "  -h, %-30s %s\n", "--help", "Print help")
	return sb.String()
}

// usageError prints a clap error and returns clap's exit code 2.
func (b Build) usageError(w io.Writer, msg string) int {
	fmt.Fprintf(w, "error: %s\n\n%s\n\nFor more information, try '--help'.\n", msg, b.usage())
	return 2
}

// Parse parses args as clap would: --flag VALUE or --flag=VALUE, every
// flag but the device one required, anything unknown an error (exit 2).
// done is true when it printed help or an error; code is the exit.
func (b Build) Parse(args []string, stdout, stderr io.Writer) (a Args, done bool, code int) {
	vals := map[string]string{}
	known := map[string]bool{}
	for _, s := range b.specs() {
		known[s.long] = true
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch arg {
		case "-h", "--help":
			fmt.Fprint(stdout, b.Help())
			return a, true, 0
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		if !strings.HasPrefix(arg, "--") || !known[name] {
			tip := ""
			if strings.HasPrefix(arg, "-") {
				tip = fmt.Sprintf("\n\n  tip: to pass '%s' as a value, use '-- %s'", arg, arg)
			}
			return a, true, b.usageError(stderr, fmt.Sprintf("unexpected argument '%s' found%s", arg, tip))
		}
		if !hasValue {
			if i+1 >= len(args) {
				return a, true, b.usageError(stderr, fmt.Sprintf("a value is required for '--%s <%s>' but none was supplied", name, b.valueName(name)))
			}
			i++
			value = args[i]
		}
		vals[name] = value
	}
	var missing []string
	for _, s := range b.specs()[:4] {
		if _, ok := vals[s.long]; !ok {
			missing = append(missing, "  --"+s.long+" <"+s.value+">")
		}
	}
	if len(missing) > 0 {
		return a, true, b.usageError(stderr, "the following required arguments were not provided:\n"+strings.Join(missing, "\n"))
	}
	a.WorkerID, a.Model, a.CallbackURL = vals["worker-id"], vals["model"], vals["callback-url"]
	var err error
	if a.Port, err = parseUint(vals["port"], 16); err != nil {
		return a, true, b.usageError(stderr, fmt.Sprintf("invalid value '%s' for '--port <PORT>': %v", vals["port"], err))
	}
	if d := b.deviceFlag(); d != "" {
		if v, ok := vals[d]; ok {
			if a.Device, err = parseUint(v, 32); err != nil {
				return a, true, b.usageError(stderr, fmt.Sprintf("invalid value '%s' for '--%s <%s>': %v", v, d, b.valueName(d), err))
			}
		}
	}
	return a, false, 0
}

func (b Build) valueName(long string) string {
	for _, s := range b.specs() {
		if s.long == long {
			return s.value
		}
	}
	return "VALUE"
}

// parseUint parses like Rust's u16/u32 FromStr (clap's message tail).
func parseUint(s string, bits int) (int, error) {
	n, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, fmt.Errorf("number too large to fit in target type")
		}
		return 0, fmt.Errorf("invalid digit found in string")
	}
	return int(n), nil
}
