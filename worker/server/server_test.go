package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rbee-go/rbee/worker"
	"github.com/rbee-go/rbee/worker/server"
)

func start(t *testing.T, b *server.Backend, opts server.Options) (*server.Server, *worker.Client) {
	t.Helper()
	s := server.New(b, opts)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		s.CancelAll()
		ts.Close()
	})
	return s, worker.NewClient(ts.URL)
}

func greedy(job, prompt string, max int) worker.ExecuteRequest {
	r := worker.NewExecuteRequest(job, prompt, max)
	r.Temperature = 0
	return r
}

func run(t *testing.T, c *worker.Client, req worker.ExecuteRequest) []worker.Event {
	t.Helper()
	evs, err := c.Run(context.Background(), req)
	require.NoError(t, err)
	require.NoError(t, worker.CheckJob(req.JobID, evs), "events: %+v", evs)
	return evs
}

func last(evs []worker.Event) worker.Event { return evs[len(evs)-1] }

func TestHealth(t *testing.T) {
	b, _ := newBackend("", 64)
	_, c := start(t, b, server.Options{})
	h, err := c.Health(context.Background())
	require.NoError(t, err)
	assert.Equal(t, worker.Health{Status: "healthy", VRAMBytes: 4242}, h)
}

func TestGenerationStops(t *testing.T) {
	tests := []struct {
		name    string
		script  string
		max     int
		stop    []string
		ctxLen  int
		text    string
		reason  worker.StopReason
		matched string
	}{
		{"EOS", "Hello", 20, nil, 64, "Hello", worker.StopEOS, ""},
		{"max_tokens", "Hello world", 5, nil, 64, "Hello", worker.StopMaxTokens, ""},
		{"stop string inside a token run", "ab\n\ncd", 20, []string{"\n\n"}, 64, "ab", worker.StopSequence, "\n\n"},
		{"stop prefix released", "a\nb", 20, []string{"\n\n"}, 64, "a\nb", worker.StopEOS, ""},
		{"stop prefix released at max_tokens", "ab\n", 3, []string{"\n\n"}, 64, "ab\n", worker.StopMaxTokens, ""},
		{"earliest of several stops", "x END y STOP", 20, []string{"STOP", "END"}, 64, "x ", worker.StopSequence, "END"},
		{"multibyte characters whole", "héllo 😀 日本", 40, nil, 64, "héllo 😀 日本", worker.StopEOS, ""},
		{"partial character at max_tokens", "a😀", 3, nil, 64, "a\uFFFD", worker.StopMaxTokens, ""},
		{"context full", "abcdefghijklmnop", 8, nil, 8, "abcd", worker.StopMaxTokens, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newBackend(tt.script, tt.ctxLen)
			_, c := start(t, b, server.Options{})
			req := greedy("j-"+tt.name, "hi!", tt.max)
			req.Stop = tt.stop
			evs := run(t, c, req)
			assert.Equal(t, tt.text, worker.Text(evs))
			end := last(evs)
			assert.Equal(t, tt.reason, end.StopReason)
			assert.Equal(t, tt.matched, end.StopSequenceMatched)
			for _, ev := range evs {
				if ev.Type == worker.EventToken {
					assert.NotEmpty(t, ev.Text, "no empty token events")
				}
			}
			assert.Equal(t, "fake", evs[0].Model)
			_, err := time.Parse(time.RFC3339Nano, evs[0].StartedAt)
			assert.NoError(t, err)
		})
	}
}

func TestFreshSessionPerRequest(t *testing.T) {
	b, m := newBackend("abc", 64)
	_, c := start(t, b, server.Options{})
	for i := range 3 {
		evs := run(t, c, greedy(fmt.Sprint("j", i), "same prompt", 10))
		assert.Equal(t, "abc", worker.Text(evs), "identical output every time")
	}
	want := byteTokenizerEncode("same prompt")
	require.Len(t, m.prompts, 3)
	for _, p := range m.prompts {
		assert.Equal(t, want, p, "each session starts empty and prefills the whole prompt")
	}
}

func byteTokenizerEncode(s string) []int { return append([]int{fakeBOS}, idsOf(s)...) }

func TestBadRequests(t *testing.T) {
	b, _ := newBackend("ok", 16)
	_, c := start(t, b, server.Options{MaxBodyBytes: 4096})
	tests := []struct {
		name       string
		body       string
		field      string
		constraint string
	}{
		{"invalid JSON", `{"job_id":"j",`, "", "json"},
		{"temperature < 0", `{"job_id":"j","prompt":"p","max_tokens":1,"temperature":-1}`, "temperature", "min"},
		{"max_tokens 0", `{"job_id":"j","prompt":"p","max_tokens":0}`, "max_tokens", "min"},
		{"max_tokens huge", `{"job_id":"j","prompt":"p","max_tokens":1000000}`, "max_tokens", "max"},
		{"max_tokens above context", `{"job_id":"j","prompt":"p","max_tokens":17}`, "max_tokens", "context"},
		{"prompt longer than context", `{"job_id":"j","prompt":"0123456789abcdef","max_tokens":1}`, "prompt", "context"},
		{"body too large", `{"job_id":"j","prompt":"` + string(bytes.Repeat([]byte("x"), 5000)) + `","max_tokens":1}`, "", "size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.ExecuteRaw(context.Background(), []byte(tt.body))
			var se *worker.StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, http.StatusBadRequest, se.StatusCode)
			require.NotNil(t, se.Validation, se.Body)
			assert.Equal(t, tt.field, se.Validation.Errors[0].Field)
			assert.Equal(t, tt.constraint, se.Validation.Errors[0].Constraint)
			// Still serving.
			assert.Equal(t, "ok", worker.Text(run(t, c, greedy("after-"+tt.name, "p", 5))))
		})
	}
}

func TestEngineFailureIsAnErrorEvent(t *testing.T) {
	tests := []struct {
		name string
		hook func(step int) error
	}{
		{"prefill error", func(step int) error { return errors.New("kaput") }},
		{"decode error", func(step int) error {
			if step == 2 {
				return errors.New("kaput")
			}
			return nil
		}},
		{"panic", func(step int) error {
			if step == 1 {
				panic("index out of range")
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, m := newBackend("abcdef", 64)
			_, c := start(t, b, server.Options{})
			m.setHook(tt.hook)
			evs := run(t, c, greedy("j", "p", 10))
			assert.Equal(t, worker.EventError, last(evs).Type)
			assert.Equal(t, worker.CodeInternal, last(evs).Code)
			m.setHook(nil)
			assert.Equal(t, "abcdef", worker.Text(run(t, c, greedy("j2", "p", 10))), "still serving")
		})
	}
}

func TestOneAtATimeFIFO(t *testing.T) {
	b, m := newBackend("xy", 64)
	release := make(chan struct{})
	prefills := make(chan []int, 10)
	m.hook = func(step int) error {
		if step == 0 {
			m.mu.Lock()
			prefills <- m.prompts[len(m.prompts)-1]
			m.mu.Unlock()
			<-release
		}
		return nil
	}
	s, c := start(t, b, server.Options{})
	type result struct {
		job string
		evs []worker.Event
		err error
	}
	results := make(chan result, 4)
	launch := func(job string) {
		go func() {
			evs, err := c.Run(context.Background(), greedy(job, job, 5))
			results <- result{job, evs, err}
		}()
	}
	launch("A")
	assert.Equal(t, byteTokenizerEncode("A"), <-prefills, "A runs at once")
	for i, j := range []string{"B", "C", "D"} {
		launch(j)
		require.Eventually(t, func() bool { return s.Waiting() == i+1 }, 5*time.Second, time.Millisecond, "%s queued", j)
	}
	var order []string
	for range 3 {
		release <- struct{}{} // let the running job finish; the next one prefills
		order = append(order, string(rune((<-prefills)[1]-3)))
	}
	release <- struct{}{}
	assert.Equal(t, []string{"B", "C", "D"}, order, "queued jobs run one at a time in arrival order")
	for range 4 {
		r := <-results
		require.NoError(t, r.err, r.job)
		require.NoError(t, worker.CheckJob(r.job, r.evs))
		assert.Equal(t, "xy", worker.Text(r.evs))
	}
}

func TestQueueFull(t *testing.T) {
	b, m := newBackend("xy", 64)
	release := make(chan struct{})
	running := make(chan struct{}, 1)
	m.hook = func(step int) error {
		if step == 0 {
			running <- struct{}{}
			<-release
		}
		return nil
	}
	s, c := start(t, b, server.Options{QueueLimit: 1})
	errs := make(chan error, 2)
	go func() { _, err := c.Run(context.Background(), greedy("A", "a", 2)); errs <- err }()
	<-running
	go func() { _, err := c.Run(context.Background(), greedy("B", "b", 2)); errs <- err }()
	require.Eventually(t, func() bool { return s.Waiting() == 1 }, 5*time.Second, time.Millisecond)
	_, err := c.Execute(context.Background(), greedy("C", "c", 2))
	var se *worker.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusServiceUnavailable, se.StatusCode)
	close(release)
	require.NoError(t, <-errs)
	require.NoError(t, <-errs)
}

// TestDisconnectCancels: a client that goes away mid-generation stops it,
// and the next job runs.
func TestDisconnectCancels(t *testing.T) {
	b, m := newBackend(string(bytes.Repeat([]byte("z"), 200)), 1024)
	stepped := make(chan int, 1000)
	m.hook = func(step int) error {
		stepped <- step
		time.Sleep(2 * time.Millisecond)
		return nil
	}
	_, c := start(t, b, server.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	st, err := c.Execute(ctx, greedy("gone", "p", 200))
	require.NoError(t, err)
	for range 3 { // started + 2 tokens
		_, err := st.Next()
		require.NoError(t, err)
	}
	cancel()
	st.Close()
	// The generation stops well before its 200 steps.
	require.Eventually(t, func() bool {
		n := m.stepsTaken()
		time.Sleep(50 * time.Millisecond)
		return m.stepsTaken() == n
	}, 5*time.Second, time.Millisecond)
	assert.Less(t, m.stepsTaken(), 150)
	m.setHook(nil)
	evs := run(t, c, greedy("next", "p", 3))
	assert.Equal(t, "zzz", worker.Text(evs))
}

// TestCancelAllEndsRunningJob: shutdown ends a running job with CANCELLED
// and a queued one too, both with a proper stream.
func TestCancelAllEndsRunningJob(t *testing.T) {
	b, m := newBackend(string(bytes.Repeat([]byte("z"), 500)), 1024)
	m.hook = func(step int) error { time.Sleep(2 * time.Millisecond); return nil }
	s, c := start(t, b, server.Options{})
	type result struct {
		evs []worker.Event
		err error
	}
	results := make(chan result, 2)
	for _, j := range []string{"run", "wait"} {
		go func() {
			evs, err := c.Run(context.Background(), greedy(j, "p", 500))
			results <- result{evs, err}
		}()
		if j == "run" {
			require.Eventually(t, func() bool { return m.stepsTaken() > 3 }, 5*time.Second, time.Millisecond)
		}
	}
	require.Eventually(t, func() bool { return s.Waiting() == 1 }, 5*time.Second, time.Millisecond)
	s.CancelAll()
	for range 2 {
		r := <-results
		require.NoError(t, r.err)
		require.NoError(t, worker.CheckStream(r.evs))
		assert.Equal(t, worker.StopCancelled, last(r.evs).StopReason)
	}
	_, err := c.Execute(context.Background(), greedy("late", "p", 2))
	var se *worker.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusServiceUnavailable, se.StatusCode)
}

// TestServeWaitsForRunningForward: shutdown can't interrupt a forward pass,
// so Serve returns only after it (the caller unmaps the weights next).
func TestServeWaitsForRunningForward(t *testing.T) {
	b, m := newBackend("abc", 64)
	inPrefill := make(chan struct{})
	release := make(chan struct{})
	m.hook = func(step int) error {
		if step == 0 {
			close(inPrefill)
			<-release
		}
		return nil
	}
	s := server.New(b, server.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln, 50*time.Millisecond) }()
	t.Cleanup(func() { stop() })

	c := worker.NewClient("http://" + ln.Addr().String())
	got := make(chan []worker.Event, 1)
	go func() {
		evs, _ := c.Run(context.Background(), greedy("j", "p", 10))
		got <- evs
	}()
	<-inPrefill
	stop()
	select {
	case <-served:
		t.Fatal("Serve returned while a forward pass was running")
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	select {
	case err := <-served:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the forward pass ended")
	}
	<-got
	_, err = net.Dial("tcp", ln.Addr().String())
	assert.Error(t, err, "listener closed")
}

// /health reports the running generation's KV cache as it grows, and 0
// once the generation is over; the end event times prefill and decode apart.
func TestHealthKVCacheAndTimes(t *testing.T) {
	b, m := newBackend("abcd", 64)
	_, c := start(t, b, server.Options{})
	const prefillSleep = 300 * time.Millisecond
	atStep := make(chan int)
	resume := make(chan struct{})
	m.setHook(func(step int) error {
		if step == 0 {
			time.Sleep(prefillSleep)
		}
		if step == 2 { // prompt (BOS + "hi", 3 positions) and one decode step are cached
			atStep <- step
			<-resume
		}
		return nil
	})
	done := make(chan []worker.Event, 1)
	go func() {
		evs, err := c.Run(context.Background(), greedy("kv", "hi", 10))
		assert.NoError(t, err)
		done <- evs
	}()
	select {
	case <-atStep:
	case evs := <-done:
		t.Fatalf("generation ended before its second decode step: %+v", evs)
	}
	h, err := c.Health(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(400), h.KVCacheBytes, "3 prompt positions + 1 decoded")
	close(resume)
	evs := <-done
	end := last(evs)
	require.Equal(t, worker.EventEnd, end.Type)
	assert.GreaterOrEqual(t, end.PrefillTimeMS, prefillSleep.Milliseconds())
	assert.Less(t, end.DecodeTimeMS, prefillSleep.Milliseconds(), "decode_time_ms leaves the prefill out")
	h, err = c.Health(context.Background())
	require.NoError(t, err)
	assert.Zero(t, h.KVCacheBytes, "no generation runs")
}
