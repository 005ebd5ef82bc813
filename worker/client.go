package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"strings"
)

// Client talks to one worker over HTTP.
type Client struct {
	BaseURL string       // e.g. http://127.0.0.1:8081 (no trailing slash needed)
	HTTP    *http.Client // nil = a client without timeout (streams are long); use ctx for deadlines
}

// NewClient returns a client of the worker at baseURL.
func NewClient(baseURL string, opts ...ClientOption) *Client {
	c := &Client{BaseURL: strings.TrimRight(baseURL, "/"), HTTP: &http.Client{}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// ClientOption configures NewClient.
type ClientOption func(*Client)

// WithHTTPClient makes the client send its requests with hc.
func WithHTTPClient(hc *http.Client) ClientOption {
	return func(c *Client) { c.HTTP = hc }
}

// DialFunc opens the connection to addr (HOST:PORT of the base URL), e.g.
// through an SSH tunnel to the worker's pool.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// WithDialer makes the client connect with dial instead of the network
// directly, and never through an HTTP proxy: the address is the worker's
// own view of itself, meaningful only to dial.
func WithDialer(dial DialFunc) ClientOption {
	return func(c *Client) {
		c.HTTP = &http.Client{Transport: &http.Transport{DialContext: dial}}
	}
}

// StatusError is a non-200 answer. For a 400 with the protocol's error body,
// Validation holds the field errors (also reachable with errors.As).
type StatusError struct {
	Op         string // "execute", "health"
	StatusCode int
	Body       string
	Validation *ValidationError
}

func (e *StatusError) Error() string {
	if e.Validation != nil {
		return fmt.Sprintf("%s: HTTP %d: %v", e.Op, e.StatusCode, e.Validation)
	}
	return fmt.Sprintf("%s: HTTP %d: %s", e.Op, e.StatusCode, strings.TrimSpace(e.Body))
}

// Unwrap exposes the field errors of a 400 to errors.As.
func (e *StatusError) Unwrap() error {
	if e.Validation == nil {
		return nil
	}
	return e.Validation
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) url(path string) string { return strings.TrimRight(c.BaseURL, "/") + path }

// Health calls GET /health.
func (c *Client) Health(ctx context.Context) (Health, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url("/health"), nil)
	if err != nil {
		return Health{}, fmt.Errorf("health: %w", err)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return Health{}, fmt.Errorf("health: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Health{}, fmt.Errorf("health: read body: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return Health{}, &StatusError{Op: "health", StatusCode: resp.StatusCode, Body: string(body)}
	}
	var h Health
	if err := json.Unmarshal(body, &h); err != nil {
		return Health{}, fmt.Errorf("health: decode %q: %w", truncate(body, 200), err)
	}
	return h, nil
}

// Execute POSTs req to /execute and returns the event stream. A non-200
// answer is a *StatusError (with field errors for a 400). Close the stream
// when done; cancelling ctx (or closing early) makes the worker cancel the job.
func (c *Client) Execute(ctx context.Context, req ExecuteRequest) (*Stream, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("execute: %w", err)
	}
	return c.ExecuteRaw(ctx, body)
}

// ExecuteRaw is Execute with a caller-made body (tests send invalid JSON).
func (c *Client) ExecuteRaw(ctx context.Context, body []byte) (*Stream, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url("/execute"), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("execute: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", ContentTypeSSE)
	resp, err := c.httpClient().Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("execute: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		se := &StatusError{Op: "execute", StatusCode: resp.StatusCode, Body: string(b)}
		if ve, ok := ParseValidationError(b); ok {
			se.Validation = ve
		}
		return nil, se
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, ContentTypeSSE) {
		resp.Body.Close()
		return nil, fmt.Errorf("execute: content type %q, want %s", ct, ContentTypeSSE)
	}
	return &Stream{body: resp.Body, dec: NewDecoder(resp.Body)}, nil
}

// Stream is the event stream of one /execute call.
type Stream struct {
	body io.ReadCloser
	dec  *Decoder
	done bool
}

// ErrNoTerminalEvent is returned when a stream ends before its end/error event.
var ErrNoTerminalEvent = errors.New("stream ended without an end or error event")

// Next returns the next event, io.EOF after the terminal event, and an error
// wrapping ErrNoTerminalEvent if the connection ends before it.
func (s *Stream) Next() (Event, error) {
	if s.done {
		return Event{}, io.EOF
	}
	ev, err := s.dec.Next()
	if err != nil {
		s.done = true
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return Event{}, fmt.Errorf("%w (%v)", ErrNoTerminalEvent, err)
		}
		return Event{}, err
	}
	if ev.Terminal() {
		s.done = true
	}
	return ev, nil
}

// Events iterates the stream up to and including its terminal event; a
// failure is yielded once as the last pair.
func (s *Stream) Events() iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		for {
			ev, err := s.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if !yield(ev, err) || err != nil {
				return
			}
		}
	}
}

// Close releases the connection; closing before the terminal event cancels
// the job on the worker.
func (s *Stream) Close() error { return s.body.Close() }

// Run executes req and collects every event up to the terminal one.
func (c *Client) Run(ctx context.Context, req ExecuteRequest) ([]Event, error) {
	st, err := c.Execute(ctx, req)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var evs []Event
	for ev, err := range st.Events() {
		if err != nil {
			return evs, fmt.Errorf("execute %s: %w", req.JobID, err)
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

// Text concatenates the token texts of events.
func Text(events []Event) string {
	var b strings.Builder
	for _, ev := range events {
		if ev.Type == EventToken {
			b.WriteString(ev.Text)
		}
	}
	return b.String()
}
