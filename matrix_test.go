package rbee_test

import (
	"testing"

	"github.com/rbee-go/rbee/keeper/matrix"
	"github.com/rbee-go/rbee/testflags"
)

// TestMatrix is the acceptance matrix of DESIGN §6: every model of -models
// on every backend of every pool of -pools, as subtests pool/backend/model.
// The runner lives in keeper/matrix.
func TestMatrix(t *testing.T) {
	matrix.RunT(t, testflags.Get())
}
