package gateway

import (
	"bytes"
	"context"
	"net"
	"sync"
)

// Ambiguous framing.
//
// A request with both Content-Length and Transfer-Encoding can be read
// two ways; when a proxy in front of the gateway reads it one way and
// the gateway the other, a second request hides inside the first
// (request smuggling, RFC 9112 §6.3, §11.2). Go's server reads such a
// request by Transfer-Encoding and drops the Content-Length header, so
// the handler cannot tell. GuardFraming wraps the listener: each
// connection notes, in the header block of the request it reads, whether
// both headers are there, and the pipeline refuses that request (400,
// connection closed). The header block of a request is the bytes read
// from the connection after the previous request's body, up to the first
// empty line: a client that pipelines requests (rare) is checked on its
// first request only, and Go's own reading (by Transfer-Encoding) still
// applies to the rest.

// GuardFraming wraps ln for ambiguous-framing checks; the server must
// also use FramingContext as its ConnContext.
func GuardFraming(ln net.Listener) net.Listener { return &framingListener{ln} }

// FramingContext is the http.Server ConnContext that makes a guarded
// connection's state visible to its requests.
func FramingContext(ctx context.Context, c net.Conn) context.Context {
	if fc, ok := c.(*framingConn); ok {
		return context.WithValue(ctx, framingKey{}, fc)
	}
	return ctx
}

type framingKey struct{}

type framingListener struct{ net.Listener }

func (l *framingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &framingConn{Conn: c, head: true}, nil
}

// framingConn scans the header block of each request it carries.
type framingConn struct {
	net.Conn
	mu        sync.Mutex
	head      bool   // reading a header block
	line      []byte // the current header line, lower-cased, up to 32 bytes
	cl, te    bool
	ambiguous bool // the last header block had both
}

func (c *framingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		if c.head {
			c.scan(p[:n])
		}
		c.mu.Unlock()
	}
	return n, err
}

// scan follows header lines; an empty line ends the block.
func (c *framingConn) scan(b []byte) {
	for _, ch := range b {
		if !c.head {
			return
		}
		switch ch {
		case '\r':
		case '\n':
			if len(c.line) == 0 {
				c.ambiguous = c.cl && c.te
				c.head = false
				continue
			}
			if bytes.HasPrefix(c.line, []byte("content-length:")) {
				c.cl = true
			}
			if bytes.HasPrefix(c.line, []byte("transfer-encoding:")) {
				c.te = true
			}
			c.line = c.line[:0]
		default:
			if len(c.line) < 32 {
				if 'A' <= ch && ch <= 'Z' {
					ch += 'a' - 'A'
				}
				c.line = append(c.line, ch)
			}
		}
	}
}

// ambiguousFraming reports whether the request came with both
// Content-Length and Transfer-Encoding (on a guarded connection).
func ambiguousFraming(ctx context.Context) bool {
	fc, _ := ctx.Value(framingKey{}).(*framingConn)
	if fc == nil {
		return false
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.ambiguous
}

// rearmFraming starts watching for the next request's header block. It
// is called once the request's body has been read whole: the bytes after
// it belong to the next request.
func rearmFraming(ctx context.Context) {
	if fc, _ := ctx.Value(framingKey{}).(*framingConn); fc != nil {
		fc.mu.Lock()
		fc.head, fc.cl, fc.te, fc.ambiguous, fc.line = true, false, false, false, fc.line[:0]
		fc.mu.Unlock()
	}
}
