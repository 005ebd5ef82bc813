package worker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// FieldError is one entry of a 400 body: {"errors":[{field, constraint, message}]}.
// Field is the JSON name ("" for the body as a whole), Constraint a stable
// machine word (required, min, max, range, type, json, context, ...).
type FieldError struct {
	Field      string `json:"field"`
	Constraint string `json:"constraint"`
	Message    string `json:"message"`
}

// ValidationError is the error of an invalid request; its JSON is the 400 body.
type ValidationError struct {
	Errors []FieldError `json:"errors"`
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		if fe.Field == "" {
			parts[i] = fe.Message
		} else {
			parts[i] = fe.Field + ": " + fe.Message
		}
	}
	return "invalid request: " + strings.Join(parts, "; ")
}

// Invalid returns a ValidationError of one field error.
func Invalid(field, constraint, format string, args ...any) *ValidationError {
	return &ValidationError{Errors: []FieldError{{field, constraint, fmt.Sprintf(format, args...)}}}
}

// DecodeExecuteRequest reads a JSON request body, applies the defaults of
// DESIGN §5 to absent fields and validates it. Any failure is a
// *ValidationError (invalid JSON, a wrong type, an out-of-range field).
// Unknown fields are ignored so newer clients keep working.
func DecodeExecuteRequest(r io.Reader) (ExecuteRequest, error) {
	req := NewExecuteRequest("", "", 0)
	dec := json.NewDecoder(r)
	if err := dec.Decode(&req); err != nil {
		return req, jsonError(err)
	}
	if dec.More() {
		return req, Invalid("", "json", "invalid JSON: trailing data after the request object")
	}
	if req.Stop == nil { // "stop": null
		req.Stop = []string{}
	}
	return req, Validate(req)
}

func jsonError(err error) *ValidationError {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		return Invalid(typeErr.Field, "type", "must be a JSON %s, got %s", jsonTypeName(typeErr.Type.Kind().String()), typeErr.Value)
	}
	if errors.Is(err, io.EOF) {
		return Invalid("", "json", "invalid JSON: empty body; send a request object")
	}
	return Invalid("", "json", "invalid JSON: %v", err)
}

func jsonTypeName(kind string) string {
	switch {
	case strings.HasPrefix(kind, "uint"):
		return "non-negative integer"
	case strings.HasPrefix(kind, "int"):
		return "integer"
	case strings.HasPrefix(kind, "float"):
		return "number"
	case kind == "slice":
		return "array"
	}
	return kind
}

// Validate checks every field of req and returns all problems at once as a
// *ValidationError, or nil.
func Validate(req ExecuteRequest) error {
	var errs []FieldError
	add := func(field, constraint, format string, args ...any) {
		errs = append(errs, FieldError{field, constraint, fmt.Sprintf(format, args...)})
	}
	if strings.TrimSpace(req.JobID) == "" {
		add("job_id", "required", "job_id is required")
	}
	if req.Prompt == "" {
		add("prompt", "required", "prompt must not be empty")
	}
	switch {
	case req.MaxTokens < 1:
		add("max_tokens", "min", "max_tokens must be at least 1, got %d", req.MaxTokens)
	case req.MaxTokens > MaxTokensLimit:
		add("max_tokens", "max", "max_tokens must be at most %d, got %d", MaxTokensLimit, req.MaxTokens)
	}
	if !(req.Temperature >= 0) || math.IsInf(req.Temperature, 0) {
		add("temperature", "min", "temperature must be >= 0 (0 = greedy), got %g", req.Temperature)
	}
	if !(req.TopP > 0 && req.TopP <= 1) {
		add("top_p", "range", "top_p must be in (0, 1], got %g", req.TopP)
	}
	if req.TopK < 0 {
		add("top_k", "min", "top_k must be >= 0 (0 = off), got %d", req.TopK)
	}
	if !(req.MinP >= 0 && req.MinP <= 1) {
		add("min_p", "range", "min_p must be in [0, 1], got %g", req.MinP)
	}
	if !(req.RepetitionPenalty > 0) || math.IsInf(req.RepetitionPenalty, 0) {
		add("repetition_penalty", "min", "repetition_penalty must be > 0 (1 = off), got %g", req.RepetitionPenalty)
	}
	if len(req.Stop) > MaxStopSequences {
		add("stop", "max", "at most %d stop sequences, got %d", MaxStopSequences, len(req.Stop))
	}
	for i, s := range req.Stop {
		switch {
		case s == "":
			add(fmt.Sprintf("stop[%d]", i), "required", "stop sequences must not be empty")
		case len(s) > MaxStopBytes:
			add(fmt.Sprintf("stop[%d]", i), "max", "stop sequences must be at most %d bytes, got %d", MaxStopBytes, len(s))
		}
	}
	if len(errs) > 0 {
		return &ValidationError{Errors: errs}
	}
	return nil
}

// ParseValidationError reads a 400 body; ok is false if it is not one.
func ParseValidationError(body []byte) (*ValidationError, bool) {
	var ve ValidationError
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&ve); err != nil || len(ve.Errors) == 0 {
		return nil, false
	}
	return &ve, true
}
