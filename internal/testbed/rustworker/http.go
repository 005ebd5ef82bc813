package rustworker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rbee-go/rbee/worker"
)

// Handler serves the seed worker's routes: GET /health and POST /execute.
func Handler(m *Model, vram int64) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"healthy","vram_bytes":%d}`, vram)
	})
	mux.HandleFunc("POST /execute", func(w http.ResponseWriter, r *http.Request) {
		req, status, body := parseExecute(r)
		if status != 0 {
			if status == http.StatusBadRequest && strings.HasPrefix(body, "{") {
				w.Header().Set("Content-Type", "application/json")
			} else {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			}
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
			return
		}
		events := m.Generate(req)
		// Buffered: headers and every event go out after the last token.
		var buf bytes.Buffer
		for _, ev := range events {
			b, _ := json.Marshal(ev)
			buf.WriteString("data: " + string(b) + "\n\n")
		}
		w.Header().Set("Content-Type", worker.ContentTypeSSE)
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(buf.Bytes())
	})
	return mux
}

// rawRequest is the serde shape: pointers tell a missing field.
type rawRequest struct {
	JobID             *string   `json:"job_id"`
	Prompt            *string   `json:"prompt"`
	MaxTokens         *uint32   `json:"max_tokens"`
	Temperature       *float32  `json:"temperature"`
	Seed              *uint64   `json:"seed"`
	TopP              *float32  `json:"top_p"`
	TopK              *uint32   `json:"top_k"`
	RepetitionPenalty *float32  `json:"repetition_penalty"`
	MinP              *float32  `json:"min_p"`
	Stop              *[]string `json:"stop"`
}

// fieldError is one entry of the 400 {"errors": [...]} body.
type fieldError struct {
	Field      string `json:"field"`
	Constraint string `json:"constraint"`
	Message    string `json:"message"`
	Value      string `json:"value,omitempty"`
}

// parseExecute is axum's Json extractor then the worker's validation:
// 415 without a JSON content type, 400 text on bad JSON, 422 text on a
// missing field, a wrong type or "stop": null, 400 JSON on a range error.
func parseExecute(r *http.Request) (Request, int, string) {
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/json" {
		return Request{}, http.StatusUnsupportedMediaType, "Expected request with `Content-Type: application/json`"
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 2<<20))
	if err != nil || !json.Valid(raw) {
		return Request{}, http.StatusBadRequest, "Failed to parse the request body as JSON: expected value at line 1 column 1"
	}
	var rr rawRequest
	if err := json.Unmarshal(raw, &rr); err != nil {
		return Request{}, http.StatusUnprocessableEntity, "Failed to deserialize the JSON body into the target type: " + err.Error()
	}
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(raw, &fields)
	for _, f := range []string{"job_id", "prompt", "max_tokens"} {
		if _, ok := fields[f]; !ok {
			return Request{}, http.StatusUnprocessableEntity, fmt.Sprintf("Failed to deserialize the JSON body into the target type: missing field `%s` at line 1 column %d", f, len(raw))
		}
	}
	if v, ok := fields["stop"]; ok && string(bytes.TrimSpace(v)) == "null" {
		return Request{}, http.StatusUnprocessableEntity, "Failed to deserialize the JSON body into the target type: stop: invalid type: null, expected a sequence"
	}
	if rr.JobID == nil || rr.Prompt == nil || rr.MaxTokens == nil {
		return Request{}, http.StatusUnprocessableEntity, "Failed to deserialize the JSON body into the target type: invalid type: null"
	}
	req := Request{JobID: *rr.JobID, Prompt: *rr.Prompt, MaxTokens: int(*rr.MaxTokens), Temperature: 1, Seed: 42, TopP: 1}
	if rr.Temperature != nil {
		req.Temperature = float64(*rr.Temperature)
	}
	if rr.Seed != nil {
		req.Seed = *rr.Seed
	}
	if rr.TopP != nil {
		req.TopP = float64(*rr.TopP)
	}
	if rr.TopK != nil {
		req.TopK = int(*rr.TopK)
	}
	if errs := validate(rr, req); len(errs) > 0 {
		b, _ := json.Marshal(map[string]any{"errors": errs})
		return Request{}, http.StatusBadRequest, string(b)
	}
	return req, 0, ""
}

func validate(rr rawRequest, req Request) []fieldError {
	var errs []fieldError
	add := func(field, constraint, msg, value string) {
		errs = append(errs, fieldError{Field: field, Constraint: constraint, Message: msg, Value: value})
	}
	if req.JobID == "" {
		add("job_id", "non_empty", "job_id must not be empty", "")
	}
	if n := utf8.RuneCountInString(req.Prompt); n < 1 || n > 32768 {
		add("prompt", "length(1..=32768)", "prompt must have 1 to 32768 characters", strconv.Itoa(n))
	}
	if req.MaxTokens < 1 || req.MaxTokens > 2048 {
		add("max_tokens", "range(1..=2048)", "max_tokens must be between 1 and 2048", strconv.Itoa(req.MaxTokens))
	}
	inRange := func(field string, v *float32, lo, hi float32) {
		if v != nil && (*v < lo || *v > hi) {
			add(field, fmt.Sprintf("range(%.1f..=%.1f)", lo, hi), fmt.Sprintf("%s must be between %.1f and %.1f", field, lo, hi),
				strconv.FormatFloat(float64(*v), 'g', -1, 32))
		}
	}
	inRange("temperature", rr.Temperature, 0, 2)
	inRange("top_p", rr.TopP, 0, 1)
	inRange("repetition_penalty", rr.RepetitionPenalty, 0, 2) // validated, then ignored
	inRange("min_p", rr.MinP, 0, 1)                           // validated, then ignored
	if rr.Stop != nil {                                       // validated, never applied
		if len(*rr.Stop) > 4 {
			add("stop", "max_items(4)", "at most 4 stop sequences", strconv.Itoa(len(*rr.Stop)))
		}
		for i, s := range *rr.Stop {
			if len(s) < 1 || len(s) > 100 {
				add(fmt.Sprintf("stop[%d]", i), "length(1..=100)", "each stop sequence must have 1 to 100 bytes", strconv.Itoa(len(s)))
			}
		}
	}
	return errs
}
