package gateway

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxEventBytes bounds one server-sent event from an upstream.
const maxEventBytes = 4 << 20

// sseEvent is one server-sent event (WHATWG HTML §9.2).
type sseEvent struct {
	name string
	id   string
	data []byte
}

var errMalformedStream = errors.New("malformed event stream")

// readEvent reads the next event. Comment lines are dropped; an event with
// no data lines is skipped. io.EOF ends the stream cleanly only between
// events.
func readEvent(br *bufio.Reader) (*sseEvent, error) {
	ev := &sseEvent{}
	var data bytes.Buffer
	hasData := false
	size := 0
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return nil, fmt.Errorf("%w: line longer than %d bytes", errMalformedStream, br.Size())
		}
		if err == io.EOF && len(line) == 0 {
			if hasData {
				return ev, nil
			}
			return nil, io.EOF
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		size += len(line)
		if size > maxEventBytes {
			return nil, fmt.Errorf("%w: event larger than %d bytes", errMalformedStream, maxEventBytes)
		}
		l := bytes.TrimRight(line, "\r\n")
		if len(l) == 0 {
			if hasData {
				ev.data = data.Bytes()
				return ev, nil
			}
			if err == io.EOF {
				return nil, io.EOF
			}
			continue
		}
		if l[0] == ':' {
			continue
		}
		field, value, _ := bytes.Cut(l, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "data":
			if hasData {
				data.WriteByte('\n')
			}
			data.Write(value)
			hasData = true
		case "event":
			ev.name = string(value)
		case "id":
			ev.id = string(value)
		}
		if err == io.EOF {
			if hasData {
				ev.data = data.Bytes()
				return ev, nil
			}
			return nil, io.EOF
		}
	}
}
