package worker

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ContentTypeSSE is the content type of /execute's stream.
const ContentTypeSSE = "text/event-stream"

// Encoder writes events as SSE frames "data: <json>\n\n", flushing after each
// one when the writer is an http.Flusher so tokens reach the client at once.
type Encoder struct {
	w io.Writer
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{w: w} }

// Encode writes one event frame.
func (e *Encoder) Encode(ev Event) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	frame := make([]byte, 0, len(b)+8)
	frame = append(frame, "data: "...)
	frame = append(frame, b...)
	frame = append(frame, "\n\n"...)
	return e.write(frame)
}

// Comment writes an SSE comment line (": text"), which clients ignore; the
// server uses it to tell a queued client it is waiting.
func (e *Encoder) Comment(text string) error {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r", " "), "\n", " ")
	return e.write([]byte(": " + text + "\n\n"))
}

func (e *Encoder) write(b []byte) error {
	if _, err := e.w.Write(b); err != nil {
		return err
	}
	if f, ok := e.w.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

// Decoder reads SSE frames per the HTML living standard's event-stream
// rules that matter here: lines end in LF, CRLF or CR; lines starting with
// ':' are comments; "data:" lines (one optional space after the colon) of one
// event are joined with '\n'; other fields (event, id, retry) are ignored; a
// blank line dispatches. An event cut off by EOF is an io.ErrUnexpectedEOF
// error rather than silently dropped, so a client notices a cut stream.
type Decoder struct {
	r       *bufio.Reader
	afterCR bool // the previous line ended in a lone CR; skip a following LF
}

// NewDecoder returns a Decoder reading from r.
func NewDecoder(r io.Reader) *Decoder { return &Decoder{r: bufio.NewReader(r)} }

// NextData returns the data of the next event, or io.EOF at the end.
func (d *Decoder) NextData() ([]byte, error) {
	var data []byte
	have := false
	for {
		line, err := d.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) && have {
				return nil, fmt.Errorf("event cut off by end of stream: %w", io.ErrUnexpectedEOF)
			}
			return nil, err
		}
		switch {
		case len(line) == 0:
			if have {
				return data, nil
			}
		case line[0] == ':':
			// comment
		default:
			field, value, _ := bytes.Cut(line, []byte(":"))
			value = bytes.TrimPrefix(value, []byte(" "))
			if string(field) == "data" {
				if have {
					data = append(data, '\n')
				}
				data = append(data, value...)
				have = true
			}
		}
	}
}

// DoneData is the data of the line that ends a stream of later Rust
// worker eras ("data: [DONE]").
const DoneData = "[DONE]"

// Next decodes the next event; io.EOF at the end of the stream, or at a
// "data: [DONE]" line.
func (d *Decoder) Next() (Event, error) {
	data, err := d.NextData()
	if err != nil {
		return Event{}, err
	}
	if string(bytes.TrimSpace(data)) == DoneData {
		return Event{}, io.EOF
	}
	var ev Event
	if err := json.Unmarshal(data, &ev); err != nil {
		return Event{}, fmt.Errorf("decode event %q: %w", truncate(data, 200), err)
	}
	return ev, nil
}

// readLine returns one line without its terminator (LF, CRLF or CR).
func (d *Decoder) readLine() ([]byte, error) {
	var line []byte
	for {
		b, err := d.r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) && len(line) > 0 {
				return line, nil
			}
			return nil, err
		}
		if d.afterCR {
			d.afterCR = false
			if b == '\n' {
				continue
			}
		}
		switch b {
		case '\n':
			return line, nil
		case '\r':
			d.afterCR = true
			return line, nil
		}
		line = append(line, b)
	}
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
