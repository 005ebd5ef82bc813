package rbee_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/cucumber/godog"

	"github.com/rbee-go/rbee/steps"
)

// godogOpts takes godog's own flags (-godog.tags=@cp3, -godog.format=
// pretty,cucumber:FILE, ...): `make signoff` runs one checkpoint with them.
var godogOpts = godog.Options{Strict: true, Format: "pretty"}

func init() { godog.BindFlags("godog.", flag.CommandLine, &godogOpts) }

// TestFeatures runs every feature under features/ in strict mode: an
// undefined or pending step fails the run.
// RBEE_FEATURES (comma list of feature files or directories) narrows the run
// while working on one feature.
func TestFeatures(t *testing.T) {
	opts := godogOpts
	opts.Strict = true // never loosened by a flag
	opts.Paths = []string{"features"}
	if only := os.Getenv("RBEE_FEATURES"); only != "" {
		opts.Paths = strings.Split(only, ",")
	}
	opts.TestingT = t
	suite := godog.TestSuite{Name: "rbee", ScenarioInitializer: steps.InitializeScenario, Options: &opts}
	if status := suite.Run(); status != 0 {
		t.Fatalf("godog exited with status %d", status)
	}
}
