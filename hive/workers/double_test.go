package workers_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// doubleEnv marks a re-executed test binary as the worker test double: a
// minimal process speaking the DESIGN §5 spawn protocol with a chosen
// behaviour, for the lifecycle tests (the real Go worker is tested in
// realworker_test.go).
const doubleEnv = "RBEE_TEST_WORKER_DOUBLE"

// pidDirEnv: the double drops a file named after its pid there, so tests
// can prove no process outlives a failed spawn.
const pidDirEnv = "RBEE_TEST_WORKER_PIDDIR"

func TestMain(m *testing.M) {
	if os.Getenv(doubleEnv) == "1" {
		os.Exit(runDouble(os.Args[1:]))
	}
	dir, err := os.MkdirTemp("", "rbee-workers-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runDouble behaves as --mode says:
//
//	both         listen, answer /health, POST the ready callback (as the
//	             real worker does; either signal may reach Spawn first)
//	callback     listen, POST the ready callback; /health answers 503
//	             until 200 ms after the callback was acknowledged
//	health       listen, answer /health, never call back
//	crash        print 30 lines and exit 3
//	never        print a line and never listen
//	ignore-term  like callback, but ignore SIGTERM
//	callback-first  POST the callback (as the Rust worker: uri
//	             http://localhost:PORT), exit 1 if it fails, only then
//	             listen, 300 ms later
//	exit-after-callback  POST the callback, then exit 4
//	wrong-callback  POST callbacks the hive must refuse (another worker
//	             id, another path), log their statuses, never listen
func runDouble(args []string) int {
	fs := flag.NewFlagSet("double", flag.ContinueOnError)
	mode := fs.String("mode", "both", "")
	id := fs.String("worker-id", "", "")
	model := fs.String("model", "", "")
	port := fs.Int("port", 0, "")
	callback := fs.String("callback-url", "", "")
	backend := fs.String("backend", "", "")
	device := fs.Int("device", 0, "")
	fs.Int("cuda-device", 0, "") // so a cuda profile's binary check passes (BACKEND_BINARY_MISMATCH otherwise)
	delay := fs.Duration("delay", 0, "")
	anyPort := fs.Bool("any-port", false, "") // ignore --port, serve on a port of its own choosing
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if dir := os.Getenv(pidDirEnv); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, strconv.Itoa(os.Getpid())), nil, 0o644)
	}
	fmt.Printf("double %s: id=%s model=%s port=%d backend=%s device=%d\n", *mode, *id, *model, *port, *backend, *device)
	if v := os.Getenv("RBEE_TEST_PROFILE_ENV"); v != "" {
		fmt.Printf("profile env: %s\n", v)
	}
	switch *mode {
	case "callback-first", "exit-after-callback", "wrong-callback":
		return rustLikeDouble(*mode, *id, *port, *callback)
	case "crash":
		for i := 1; i <= 30; i++ {
			fmt.Fprintf(os.Stderr, "crash line %d\n", i)
		}
		return 3
	case "never":
		fmt.Println("loading forever")
		select {}
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
	}
	time.Sleep(*delay)
	if *anyPort {
		*port = 0
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "listen: %v\n", err)
		return 1
	}
	var healthy atomic.Bool
	healthy.Store(*mode != "callback")
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { //nolint:errcheck
		w.Header().Set("Content-Type", "application/json")
		if !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"status":"loading"}`)
			return
		}
		fmt.Fprint(w, `{"status":"healthy","vram_bytes":0}`)
	}))
	// The moment the first ready signal is out, for the spawn-latency benchmark.
	fmt.Printf("ready-signal-at %d\n", time.Now().UnixNano())
	if *mode != "health" && *callback != "" {
		body, _ := json.Marshal(map[string]any{"worker_id": *id, "vram_bytes": 0, "uri": "http://" + ln.Addr().String()})
		resp, err := http.Post(*callback, "application/json", bytes.NewReader(body))
		if err != nil {
			fmt.Fprintf(os.Stderr, "callback: %v\n", err)
		} else {
			resp.Body.Close()
		}
	}
	if *mode == "callback" {
		time.Sleep(200 * time.Millisecond)
		healthy.Store(true)
	}
	fmt.Println("ready")
	select {}
}

// rustLikeDouble calls back before it listens, as the seed-era Rust worker.
func rustLikeDouble(mode, id string, port int, callback string) int {
	post := func(url, workerID string) (int, error) {
		body, _ := json.Marshal(map[string]any{"worker_id": workerID, "vram_bytes": 0, "uri": fmt.Sprintf("http://localhost:%d", port)})
		resp, err := http.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if mode == "wrong-callback" {
		code, err := post(callback, "worker-other-9")
		fmt.Printf("wrong id: status %d %v\n", code, err)
		code, err = post(strings.TrimSuffix(callback, "/ready")+"/elsewhere", id)
		fmt.Printf("wrong path: status %d %v\n", code, err)
		select {}
	}
	code, err := post(callback, id)
	if err != nil || code/100 != 2 {
		fmt.Fprintf(os.Stderr, "Error: ready callback failed: %d %v\n", code, err)
		return 1
	}
	if mode == "exit-after-callback" {
		fmt.Fprintln(os.Stderr, "Error: CUDA_ERROR_OUT_OF_MEMORY after the callback")
		return 4
	}
	time.Sleep(300 * time.Millisecond)
	ln, err := net.Listen("tcp", net.JoinHostPort("0.0.0.0", strconv.Itoa(port)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "listen: %v\n", err)
		return 1
	}
	fmt.Println("listening after the callback")
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"status":"healthy","vram_bytes":0}`)
	}))
	return 0
}
