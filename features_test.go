package rbee_test

import (
	"os"
	"strings"
	"testing"

	"github.com/cucumber/godog"

	"github.com/rbee-go/rbee/steps"
)

// TestFeatures runs every feature under features/ in strict mode: an
// undefined or pending step fails the run.
// RBEE_FEATURES (comma list of feature files or directories) narrows the run
// while working on one feature.
func TestFeatures(t *testing.T) {
	paths := []string{"features"}
	if only := os.Getenv("RBEE_FEATURES"); only != "" {
		paths = strings.Split(only, ",")
	}
	suite := godog.TestSuite{
		Name:                "rbee",
		ScenarioInitializer: steps.InitializeScenario,
		Options: &godog.Options{
			Strict:   true,
			Format:   "pretty",
			Paths:    paths,
			TestingT: t,
		},
	}
	if status := suite.Run(); status != 0 {
		t.Fatalf("godog exited with status %d", status)
	}
}
