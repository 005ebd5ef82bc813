package hfhub

// hashPipe hashes received chunks on another goroutine while the next chunk
// is read and written, so sha256 (~1.5 GB/s) overlaps the transfer instead of
// adding to it.
type hashPipe struct {
	c    *Client
	v    *verifier
	free chan *[]byte
	work chan chunk
	done chan struct{}
	all  []*[]byte
}

type chunk struct {
	buf *[]byte
	n   int
}

// pipeDepth chunks are in flight per file: enough to ride out scheduling
// jitter (4 × 512 KiB by default), few enough that memory stays small.
const pipeDepth = 4

func (c *Client) newHashPipe(v *verifier) *hashPipe {
	p := &hashPipe{c: c, v: v, free: make(chan *[]byte, pipeDepth), work: make(chan chunk, pipeDepth), done: make(chan struct{})}
	for range pipeDepth {
		b := c.getBuf()
		p.all = append(p.all, b)
		p.free <- b
	}
	go func() {
		defer close(p.done)
		for ch := range p.work {
			p.v.Write((*ch.buf)[:ch.n])
			p.free <- ch.buf
		}
	}()
	return p
}

// next waits for a free buffer.
func (p *hashPipe) next() *[]byte { return <-p.free }

// submit hands a filled buffer to the hasher.
func (p *hashPipe) submit(b *[]byte, n int) { p.work <- chunk{b, n} }

// release returns an unused buffer.
func (p *hashPipe) release(b *[]byte) { p.free <- b }

// finish waits until every submitted chunk is hashed and returns the buffers.
func (p *hashPipe) finish() {
	close(p.work)
	<-p.done
	for _, b := range p.all {
		p.c.putBuf(b)
	}
}
