package worker_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker"
)

func TestDecodeExecuteRequestDefaults(t *testing.T) {
	req, err := worker.DecodeExecuteRequest(strings.NewReader(`{"job_id":"j1","prompt":"hi","max_tokens":8}`))
	require.NoError(t, err)
	assert.Equal(t, worker.NewExecuteRequest("j1", "hi", 8), req)
	assert.Nil(t, req.Seed)

	req, err = worker.DecodeExecuteRequest(strings.NewReader(`{"job_id":"j1","prompt":"hi","max_tokens":8,"seed":42,"temperature":0,"top_p":0.5,"top_k":3,"min_p":0.1,"repetition_penalty":1.3,"stop":["\n"],"extra":true}`))
	require.NoError(t, err)
	require.NotNil(t, req.Seed)
	assert.Equal(t, uint64(42), *req.Seed)
	assert.Equal(t, 0.0, req.Temperature)
	assert.Equal(t, 0.5, req.TopP)
	assert.Equal(t, 3, req.TopK)
	assert.Equal(t, 0.1, req.MinP)
	assert.Equal(t, 1.3, req.RepetitionPenalty)
	assert.Equal(t, []string{"\n"}, req.Stop)
}

func TestDecodeExecuteRequestErrors(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		field      string
		constraint string
	}{
		{"invalid JSON", `{"job_id":`, "", "json"},
		{"not an object", `[1,2]`, "", "json"},
		{"empty body", ``, "", "json"},
		{"trailing data", `{"job_id":"j","prompt":"p","max_tokens":1} {}`, "", "json"},
		{"missing job_id", `{"prompt":"p","max_tokens":1}`, "job_id", "required"},
		{"empty prompt", `{"job_id":"j","prompt":"","max_tokens":1}`, "prompt", "required"},
		{"max_tokens missing", `{"job_id":"j","prompt":"p"}`, "max_tokens", "min"},
		{"max_tokens 0", `{"job_id":"j","prompt":"p","max_tokens":0}`, "max_tokens", "min"},
		{"max_tokens huge", `{"job_id":"j","prompt":"p","max_tokens":100000000}`, "max_tokens", "max"},
		{"max_tokens string", `{"job_id":"j","prompt":"p","max_tokens":"ten"}`, "max_tokens", "type"},
		{"temperature negative", `{"job_id":"j","prompt":"p","max_tokens":1,"temperature":-0.5}`, "temperature", "min"},
		{"top_p zero", `{"job_id":"j","prompt":"p","max_tokens":1,"top_p":0}`, "top_p", "range"},
		{"top_p above one", `{"job_id":"j","prompt":"p","max_tokens":1,"top_p":1.5}`, "top_p", "range"},
		{"top_k negative", `{"job_id":"j","prompt":"p","max_tokens":1,"top_k":-1}`, "top_k", "min"},
		{"min_p above one", `{"job_id":"j","prompt":"p","max_tokens":1,"min_p":2}`, "min_p", "range"},
		{"repetition_penalty zero", `{"job_id":"j","prompt":"p","max_tokens":1,"repetition_penalty":0}`, "repetition_penalty", "min"},
		{"negative seed", `{"job_id":"j","prompt":"p","max_tokens":1,"seed":-1}`, "seed", "type"},
		{"empty stop string", `{"job_id":"j","prompt":"p","max_tokens":1,"stop":["a",""]}`, "stop[1]", "required"},
		{"too many stops", `{"job_id":"j","prompt":"p","max_tokens":1,"stop":["a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a"]}`, "stop", "max"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := worker.DecodeExecuteRequest(strings.NewReader(tt.body))
			var ve *worker.ValidationError
			require.True(t, errors.As(err, &ve), "want a ValidationError, got %v", err)
			require.NotEmpty(t, ve.Errors)
			assert.Equal(t, tt.field, ve.Errors[0].Field, "errors: %+v", ve.Errors)
			assert.Equal(t, tt.constraint, ve.Errors[0].Constraint, "errors: %+v", ve.Errors)
			assert.NotEmpty(t, ve.Errors[0].Message)
			if tt.field == "seed" {
				assert.Contains(t, ve.Errors[0].Message, "non-negative integer")
			}

			// The error is its own 400 body and parses back.
			b, err := json.Marshal(ve)
			require.NoError(t, err)
			back, ok := worker.ParseValidationError(b)
			require.True(t, ok)
			assert.Equal(t, ve, back)
		})
	}
}

func TestValidateReportsEveryField(t *testing.T) {
	req := worker.ExecuteRequest{MaxTokens: 0, Temperature: -1, TopP: 0, TopK: -1, MinP: -1, RepetitionPenalty: 0}
	err := worker.Validate(req)
	var ve *worker.ValidationError
	require.ErrorAs(t, err, &ve)
	var fields []string
	for _, fe := range ve.Errors {
		fields = append(fields, fe.Field)
	}
	assert.Equal(t, []string{"job_id", "prompt", "max_tokens", "temperature", "top_p", "top_k", "min_p", "repetition_penalty"}, fields)
	assert.Contains(t, err.Error(), "temperature: temperature must be >= 0")
}

func TestParseValidationErrorRejectsOtherBodies(t *testing.T) {
	for _, body := range []string{``, `not json`, `{"errors":[]}`, `{"error":"x"}`} {
		_, ok := worker.ParseValidationError([]byte(body))
		assert.False(t, ok, body)
	}
}
