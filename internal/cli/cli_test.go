package cli_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/internal/cli"
)

type hinted struct{ msg, hint string }

func (h hinted) Error() string     { return h.msg }
func (h hinted) ErrorHint() string { return h.hint }

func TestFail(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"plain", errors.New("boom"), "error: boom\n"},
		{"hint", hinted{"no model", "register it"}, "error: no model\nhint: register it\n"},
		{"wrapped hint", fmt.Errorf("load: %w", hinted{"no model", "register it"}), "error: load: no model\nhint: register it\n"},
		{"empty hint", hinted{"no model", ""}, "error: no model\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			assert.Equal(t, cli.ExitFailure, cli.Fail(&b, tt.err))
			assert.Equal(t, tt.want, b.String())
		})
	}
}

func TestUsageError(t *testing.T) {
	var b bytes.Buffer
	assert.Equal(t, cli.ExitUsage, cli.UsageError(&b, "unknown command \"x\"", "run 'rbee-hive --help'"))
	assert.Equal(t, "error: unknown command \"x\"\nhint: run 'rbee-hive --help'\n", b.String())
	b.Reset()
	assert.Equal(t, cli.ExitUsage, cli.UsageError(&b, "bad", ""))
	assert.Equal(t, "error: bad\n", b.String())
}

func TestColorNeedsATerminal(t *testing.T) {
	none := func(string) string { return "" }
	noColorEnv := func(k string) string { return map[string]string{"NO_COLOR": "1"}[k] }
	var b bytes.Buffer
	assert.False(t, cli.Color(&b, false, none), "a buffer is not a terminal")
	assert.False(t, cli.Color(&b, true, none))
	assert.False(t, cli.Color(&b, false, noColorEnv))
	assert.False(t, cli.IsTerminal(&b))
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, cli.WriteJSON(&b, map[string]int{"a": 1}))
	assert.Equal(t, "{\n  \"a\": 1\n}\n", b.String())
	b.Reset()
	require.Error(t, cli.WriteJSON(&b, math.Inf(1)))
	assert.Empty(t, b.String())
}

func TestPrintVersion(t *testing.T) {
	var b bytes.Buffer
	assert.Equal(t, cli.ExitOK, cli.PrintVersion(&b, "rbee-hive", "1.2.3"))
	assert.Equal(t, fmt.Sprintf("rbee-hive 1.2.3 (%s %s/%s)\n", runtime.Version(), runtime.GOOS, runtime.GOARCH), b.String())
}

func TestIndent(t *testing.T) {
	assert.Equal(t, "  a\n  b", cli.Indent("\na\nb\n"))
	assert.Equal(t, "  one", cli.Indent("one"))
}

func TestSplit(t *testing.T) {
	tests := []struct {
		args       []string
		group, sub string
		rest       []string
	}{
		{nil, "", "", nil},
		{[]string{"status"}, "status", "", nil},
		{[]string{"models", "list"}, "models", "list", []string{}},
		{[]string{"models", "register", "x", "--name", "X"}, "models", "register", []string{"x", "--name", "X"}},
	}
	for _, tt := range tests {
		g, s, r := cli.Split(tt.args)
		assert.Equal(t, tt.group, g)
		assert.Equal(t, tt.sub, s)
		assert.Equal(t, tt.rest, r)
	}
}
