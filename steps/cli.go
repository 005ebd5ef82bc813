package steps

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cucumber/godog"
)

// registerCLISteps: running commands and checking what they print.
func registerCLISteps(sc *godog.ScenarioContext, w *World) {
	sc.Step(`^a fresh rbee home$`, w.freshHome)
	sc.Step(`^I run "(.*)"$`, w.Run)
	sc.Step(`^I run "(.*)" on a terminal$`, w.RunOnTerminal)
	sc.Step(`^the command succeeds$`, w.commandSucceeds)
	sc.Step(`^the command fails with exit code (\d+)$`, w.commandExits)
	sc.Step(`^stdout contains "(.*)"$`, func(s string) error { return w.contains("stdout", w.Stdout, s, true) })
	sc.Step(`^stdout does not contain "(.*)"$`, func(s string) error { return w.contains("stdout", w.Stdout, s, false) })
	sc.Step(`^stderr contains "(.*)"$`, func(s string) error { return w.contains("stderr", w.Stderr, s, true) })
	sc.Step(`^stdout has no color codes$`, func() error { return w.contains("stdout", w.Stdout, "\x1b[", false) })
	sc.Step(`^stdout has color codes$`, func() error { return w.contains("stdout", w.Stdout, "\x1b[", true) })
	sc.Step(`^stdout is empty$`, func() error { return w.empty("stdout", w.Stdout) })
	sc.Step(`^stderr is empty$`, func() error { return w.empty("stderr", w.Stderr) })
	sc.Step(`^the error is "(.*)"$`, w.errorIs)
	sc.Step(`^stderr has a hint$`, w.hasHint)
	sc.Step(`^stdout is JSON with the fields "(.*)"$`, w.jsonFields)
	sc.Step(`^the JSON at "([^"]*)" is "(.*)"$`, w.jsonString)
	sc.Step(`^the JSON at "([^"]*)" is (-?\d+)$`, w.jsonNumber)
	sc.Step(`^the JSON at "([^"]*)" contains "(.*)"$`, w.jsonContains)
	sc.Step(`^the JSON at "([^"]*)" is (true|false)$`, w.jsonBool)
	sc.Step(`^the JSON at "([^"]*)" is an empty list$`, w.jsonEmptyList)
	sc.Step(`^stdout is an empty JSON list$`, func() error { return w.jsonEmptyList("") })
	sc.Step(`^a pools file:$`, w.poolsFile)
	sc.Step(`^the environment variable "([^"]*)" is "(.*)"$`, func(k, v string) { w.Env[k] = w.Expand(v) })
}

func (w *World) freshHome() error {
	if _, err := os.Stat(w.Home); err == nil {
		return fmt.Errorf("home %s already exists", w.Home)
	}
	return nil
}

func (w *World) commandSucceeds() error {
	if w.ExitCode != 0 {
		return fmt.Errorf("expected success\n%s", w.Last())
	}
	return nil
}

func (w *World) commandExits(code int) error {
	if w.ExitCode != code {
		return fmt.Errorf("expected exit code %d\n%s", code, w.Last())
	}
	return nil
}

func (w *World) contains(name, got, want string, should bool) error {
	want = w.Expand(want)
	if strings.Contains(got, want) != should {
		verb := "contain"
		if !should {
			verb = "not contain"
		}
		return fmt.Errorf("expected %s to %s %q\n%s", name, verb, want, w.Last())
	}
	return nil
}

func (w *World) empty(name, got string) error {
	if got != "" {
		return fmt.Errorf("expected empty %s\n%s", name, w.Last())
	}
	return nil
}

// errorIs checks the operator-facing error: the first stderr line is
// `error: …` and contains the text, and nothing went to stdout.
func (w *World) errorIs(want string) error {
	first, _, _ := strings.Cut(w.Stderr, "\n")
	if !strings.HasPrefix(first, "error: ") || !strings.Contains(first, w.Expand(want)) {
		return fmt.Errorf("expected first stderr line \"error: …%s…\"\n%s", want, w.Last())
	}
	if w.Stdout != "" {
		return fmt.Errorf("expected nothing on stdout for an error\n%s", w.Last())
	}
	return nil
}

func (w *World) hasHint() error {
	for _, l := range strings.Split(w.Stderr, "\n") {
		if strings.HasPrefix(l, "hint: ") && len(l) > len("hint: ") {
			return nil
		}
	}
	return fmt.Errorf("expected a \"hint: …\" line on stderr\n%s", w.Last())
}

func (w *World) stdoutJSON() (any, error) {
	var v any
	if err := json.Unmarshal([]byte(w.Stdout), &v); err != nil {
		return nil, fmt.Errorf("stdout is not JSON: %v\n%s", err, w.Last())
	}
	return v, nil
}

// jsonAt follows a dotted path ("models.registered", "models.0.id").
func (w *World) jsonAt(path string) (any, error) {
	v, err := w.stdoutJSON()
	if err != nil {
		return nil, err
	}
	for _, part := range strings.Split(path, ".") {
		switch node := v.(type) {
		case map[string]any:
			x, ok := node[part]
			if !ok {
				return nil, fmt.Errorf("JSON has no %q (at %q)\n%s", path, part, w.Last())
			}
			v = x
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(node) {
				return nil, fmt.Errorf("JSON path %q: no element %q\n%s", path, part, w.Last())
			}
			v = node[i]
		default:
			return nil, fmt.Errorf("JSON path %q: %q is not an object or array\n%s", path, part, w.Last())
		}
	}
	return v, nil
}

func (w *World) jsonFields(list string) error {
	v, err := w.stdoutJSON()
	if err != nil {
		return err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("stdout is not a JSON object\n%s", w.Last())
	}
	for _, f := range splitList(list) {
		if _, ok := obj[f]; !ok {
			return fmt.Errorf("JSON lacks the field %q\n%s", f, w.Last())
		}
	}
	return nil
}

func (w *World) jsonString(path, want string) error {
	v, err := w.jsonAt(path)
	if err != nil {
		return err
	}
	if s, ok := v.(string); !ok || s != w.Expand(want) {
		return fmt.Errorf("JSON at %q is %v, want %q\n%s", path, v, want, w.Last())
	}
	return nil
}

func (w *World) jsonNumber(path string, want int) error {
	v, err := w.jsonAt(path)
	if err != nil {
		return err
	}
	if f, ok := v.(float64); !ok || f != float64(want) {
		return fmt.Errorf("JSON at %q is %v, want %d\n%s", path, v, want, w.Last())
	}
	return nil
}

func (w *World) jsonBool(path, want string) error {
	v, err := w.jsonAt(path)
	if err != nil {
		return err
	}
	if b, ok := v.(bool); !ok || b != (want == "true") {
		return fmt.Errorf("JSON at %q is %v, want %s\n%s", path, v, want, w.Last())
	}
	return nil
}

func (w *World) jsonContains(path, want string) error {
	v, err := w.jsonAt(path)
	if err != nil {
		return err
	}
	arr, ok := v.([]any)
	if !ok {
		return fmt.Errorf("JSON at %q is not an array\n%s", path, w.Last())
	}
	for _, x := range arr {
		if x == want {
			return nil
		}
	}
	return fmt.Errorf("JSON at %q does not contain %q\n%s", path, want, w.Last())
}

// jsonEmptyList: path "" is the whole document.
func (w *World) jsonEmptyList(path string) error {
	var v any
	var err error
	if path == "" {
		v, err = w.stdoutJSON()
	} else {
		v, err = w.jsonAt(path)
	}
	if err != nil {
		return err
	}
	if arr, ok := v.([]any); !ok || len(arr) != 0 {
		return fmt.Errorf("JSON at %q is %v, want []\n%s", path, v, w.Last())
	}
	return nil
}

// poolsFile writes the operator's default pools file (~/.config/rbee/pools.toml).
func (w *World) poolsFile(doc *godog.DocString) error {
	p := filepath.Join(w.UserHome, ".config", "rbee", "pools.toml")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(w.Expand(doc.Content)), 0o644)
}

func splitList(list string) []string {
	var out []string
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
