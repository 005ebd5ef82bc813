package errcode_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/rbee-go/rbee/internal/errcode"
)

type codeA string
type codeB string

func TestError(t *testing.T) {
	cause := errors.New("disk full")
	sentinelA := &errcode.Error[codeA]{Code: "X"}
	tests := []struct {
		name      string
		err       error
		wantText  string
		wantHint  string
		wantCodeA codeA
		wantCodeB codeB
		isA       bool
	}{
		{"message", &errcode.Error[codeA]{Code: "X", Msg: "x failed", Hint: "do y", Err: cause},
			"x failed", "do y", "X", "", true},
		{"wrapped", fmt.Errorf("outer: %w", &errcode.Error[codeA]{Code: "X", Msg: "x failed"}),
			"outer: x failed", "", "X", "", true},
		{"other code", &errcode.Error[codeA]{Code: "Z", Msg: "z failed"}, "z failed", "", "Z", "", false},
		{"other code type", &errcode.Error[codeB]{Code: "X", Msg: "b failed", Hint: "h"}, "b failed", "", "", "X", false},
		{"sentinel text is its code", sentinelA, "X", "", "X", "", true},
		{"plain error", cause, "disk full", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.wantText, tt.err.Error())
			assert.Equal(t, tt.wantHint, errcode.HintOf[codeA](tt.err))
			assert.Equal(t, tt.wantCodeA, errcode.Of[codeA](tt.err))
			assert.Equal(t, tt.wantCodeB, errcode.Of[codeB](tt.err))
			assert.Equal(t, tt.isA, errors.Is(tt.err, sentinelA))
		})
	}
}

func TestUnwrapAndHint(t *testing.T) {
	cause := errors.New("disk full")
	err := &errcode.Error[codeA]{Code: "X", Msg: "x failed", Hint: "free space", Err: cause}
	assert.ErrorIs(t, err, cause)
	var h interface{ ErrorHint() string }
	assert.True(t, errors.As(fmt.Errorf("w: %w", err), &h))
	assert.Equal(t, "free space", h.ErrorHint())
	// A target with a message or a host is not a sentinel: no match by code.
	assert.False(t, errors.Is(err, &errcode.Error[codeA]{Code: "X", Msg: "x failed"}))
	assert.False(t, errors.Is(err, &errcode.Error[codeA]{Code: "X", Host: "h"}))
}
