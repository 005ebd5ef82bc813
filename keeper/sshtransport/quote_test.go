package sshtransport_test

import (
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/keeper/sshtransport"
)

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"status", "status"},
		{"--json", "--json"},
		{"org/name", "org/name"},
		{"", "''"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"x'; touch /tmp/pwned; echo '", `'x'\''; touch /tmp/pwned; echo '\'''`},
		{"$(id)", "'$(id)'"},
		{"`id`", "'`id`'"},
		{"a=b", "'a=b'"},
		{"~", "'~'"},
		{"*.json", "'*.json'"},
		{"line\nbreak", "'line\nbreak'"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, sshtransport.Quote(tt.in), "Quote(%q)", tt.in)
	}
}

func TestQuotePathKeepsRemoteHome(t *testing.T) {
	assert.Equal(t, `"$HOME"/'rbee repo'`, sshtransport.QuotePath("~/rbee repo"))
	assert.Equal(t, `"$HOME"`, sshtransport.QuotePath("~"))
	assert.Equal(t, "/srv/rbee", sshtransport.QuotePath("/srv/rbee"))
	assert.Equal(t, `'~user/x'`, sshtransport.QuotePath("~user/x"))
}

func TestCommandLine(t *testing.T) {
	c := sshtransport.Command{Argv: []string{"rbee-hive", "models", "register", "a b"}, Dir: "~/src"}
	assert.Equal(t, `cd "$HOME"/src && exec rbee-hive models register 'a b'`, c.Line())
	assert.Equal(t, "uptime", sshtransport.Command{Script: "uptime", Argv: []string{"x"}}.Line())
}

// shellArgv runs sh -c with the joined argv and returns what the shell
// passed to printf, one argument per NUL-terminated record.
func shellArgv(t *testing.T, argv []string) []string {
	t.Helper()
	out, err := exec.Command("sh", "-c", "printf '%s\\0' "+sshtransport.Join(argv)).Output()
	require.NoError(t, err, "argv %q", argv)
	got := strings.Split(string(out), "\x00")
	return got[:len(got)-1]
}

func randomArg(r *rand.Rand) string {
	const special = " \t\n'\"\\$`;&|<>()*?[]{}~#!%^=,-.:/@+\u00e9\u4e2d\U0001F41D"
	n := r.IntN(12)
	var b strings.Builder
	for i := 0; i < n; i++ {
		if r.IntN(2) == 0 {
			b.WriteByte(byte('a' + r.IntN(26)))
		} else {
			rs := []rune(special)
			b.WriteRune(rs[r.IntN(len(rs))])
		}
	}
	return b.String()
}

// Property: for random argvs full of shell metacharacters, sh -c of the
// joined line yields exactly the original argv.
func TestJoinRoundTripsThroughShell(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 150; i++ {
		argv := make([]string, 1+r.IntN(4))
		for j := range argv {
			argv[j] = randomArg(r)
		}
		require.Equal(t, argv, shellArgv(t, argv))
	}
}

func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "x'; touch /tmp/pwned; echo '", "$(id)", "a\nb", `\'`, "'''"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, 0) || !utf8.ValidString(s) {
			return // argv cannot carry NUL; sh may mangle invalid UTF-8 in some locales
		}
		got := shellArgv(t, []string{s, "end"})
		if !assert.Equal(t, []string{s, "end"}, got) {
			t.Logf("line: %s", sshtransport.Join([]string{s}))
		}
	})
}
