package keeper

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/rbee-go/rbee/keeper/sshtransport"
	"github.com/rbee-go/rbee/worker"
)

// Keeper failure codes of infer.
const (
	CodeWorkerUnreachable Code = "WORKER_UNREACHABLE"
	CodeInferFailed       Code = "INFER_FAILED"
	CodeNoTokens          Code = "NO_TOKENS"
)

// InferRequest is `rbee-keeper infer`.
type InferRequest struct {
	Worker      string // HOST:PORT or http(s)://HOST:PORT
	Prompt      string
	MaxTokens   int
	Temperature float64
	Seed        *uint64
	JobID       string // "" = a generated one
	// Dial, when set, connects to Worker instead of the network (the
	// pool's SSH tunnel: see Keeper.WorkerDial).
	Dial worker.DialFunc
}

// InferResult summarises one generation.
type InferResult struct {
	Worker       string            `json:"worker"`
	JobID        string            `json:"job_id"`
	Model        string            `json:"model"`
	Text         string            `json:"text"`
	Tokens       int               `json:"tokens"`
	FirstTokenMS int64             `json:"first_token_ms"`
	TotalMS      int64             `json:"total_ms"`
	DecodeMS     int64             `json:"decode_time_ms"`
	TokensPerSec float64           `json:"tokens_per_second"`
	StopReason   worker.StopReason `json:"stop_reason"`
}

// WorkerURL turns HOST:PORT into the worker's base URL.
func WorkerURL(w string) string {
	if strings.HasPrefix(w, "http://") || strings.HasPrefix(w, "https://") {
		return strings.TrimRight(w, "/")
	}
	return "http://" + w
}

// Infer sends the prompt to the worker and calls onToken with each token's
// text as it arrives. An error event or a generation without tokens is an error.
func Infer(ctx context.Context, req InferRequest, onToken func(string)) (InferResult, error) {
	url := WorkerURL(req.Worker)
	jobID := req.JobID
	if jobID == "" {
		jobID = fmt.Sprintf("keeper-%d", time.Now().UnixNano())
	}
	res := InferResult{Worker: req.Worker, JobID: jobID}
	er := worker.NewExecuteRequest(jobID, req.Prompt, req.MaxTokens)
	er.Temperature, er.Seed = req.Temperature, req.Seed

	start := time.Now()
	var opts []worker.ClientOption
	if req.Dial != nil {
		opts = append(opts, worker.WithDialer(req.Dial))
	}
	stream, err := worker.NewClient(url, opts...).Execute(ctx, er)
	if err != nil {
		var se *worker.StatusError
		if errors.As(err, &se) {
			return res, &Error{Code: CodeInferFailed, Host: req.Worker, Err: err,
				Msg: fmt.Sprintf("worker %s refused the request: %v", req.Worker, err)}
		}
		var ne net.Error
		var oe *net.OpError
		if errors.As(err, &oe) || errors.As(err, &ne) || errors.Is(err, sshtransport.ErrTunnel) {
			return res, &Error{Code: CodeWorkerUnreachable, Host: req.Worker, Err: err,
				Msg:  fmt.Sprintf("cannot reach the worker at %s: %v", url, err),
				Hint: "is it running? see rbee-keeper pool worker list --host POOL"}
		}
		return res, &Error{Code: CodeInferFailed, Host: req.Worker, Err: err, Msg: fmt.Sprintf("worker %s: %v", req.Worker, err)}
	}
	defer func() { _ = stream.Close() }()
	var text strings.Builder
	for ev, err := range stream.Events() {
		if err != nil {
			return res, &Error{Code: CodeInferFailed, Host: req.Worker, Err: err, Msg: fmt.Sprintf("worker %s: %v", req.Worker, err)}
		}
		switch ev.Type {
		case worker.EventStarted:
			res.Model = ev.Model
		case worker.EventToken:
			if res.Tokens == 0 {
				res.FirstTokenMS = time.Since(start).Milliseconds()
			}
			res.Tokens++
			text.WriteString(ev.Text)
			if onToken != nil {
				onToken(ev.Text)
			}
		case worker.EventEnd:
			res.StopReason, res.DecodeMS = ev.StopReason, ev.DecodeTimeMS
		case worker.EventError:
			res.Text, res.TotalMS = text.String(), time.Since(start).Milliseconds()
			return res, &Error{Code: CodeInferFailed, Host: req.Worker,
				Msg: fmt.Sprintf("worker %s: %s: %s", req.Worker, ev.Code, ev.Message)}
		}
	}
	res.Text, res.TotalMS = text.String(), time.Since(start).Milliseconds()
	ms := res.DecodeMS
	if ms <= 0 {
		ms = res.TotalMS
	}
	if ms > 0 {
		res.TokensPerSec = float64(res.Tokens) * 1000 / float64(ms)
	}
	if res.Tokens == 0 {
		return res, &Error{Code: CodeNoTokens, Host: req.Worker,
			Msg:  fmt.Sprintf("worker %s generated no tokens (stop reason %s)", req.Worker, res.StopReason),
			Hint: "try a longer --max-tokens or another prompt"}
	}
	return res, nil
}
