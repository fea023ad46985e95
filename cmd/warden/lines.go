package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
)

// batchFunc turns a batch of input lines (first is the 1-based number of
// lines[0]) into output bytes appended to dst.
type batchFunc func(dst []byte, first int, lines [][]byte) ([]byte, error)

type lineBatch struct {
	first int
	lines [][]byte
	arena []byte
	out   []byte
	err   error
	done  chan struct{}
}

// processLines reads r line by line and runs fn over batches of about a
// megabyte on every core, writing results in input order. Memory stays
// bounded by a few batches plus the longest line (at most maxLine).
// progress, when non-nil, is told how many bytes were read.
func processLines(ctx context.Context, r io.Reader, w io.Writer, maxLine int, progress func(n int64), fn batchFunc) error {
	const batchBytes = 256 << 10
	workers := runtime.GOMAXPROCS(0)
	// Buffers go round: a batch's line arena and output buffer return to
	// the pools once written, so steady state allocates nothing per batch.
	arenas, outs := make(freeList, 2*workers+2), make(freeList, 2*workers+2)
	queue := make(chan *lineBatch, workers)
	work := make(chan *lineBatch, workers)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				b.out, b.err = fn(outs.get(2*batchBytes), b.first, b.lines)
				close(b.done)
			}
		}()
	}
	var werr error
	var writer sync.WaitGroup
	writer.Add(1)
	go func() {
		defer writer.Done()
		for b := range queue {
			<-b.done
			if werr == nil && b.err != nil {
				werr = b.err
			}
			if werr == nil {
				_, werr = w.Write(b.out)
			}
			outs.put(b.out)
			arenas.put(b.arena)
		}
	}()
	br := bufio.NewReaderSize(r, 1<<20)
	lineNo := 1
	var rerr error
	// Lines of a batch share one buffer: one allocation per batch, not
	// per line.
	newArena := func() []byte { return arenas.get(batchBytes + batchBytes/4) }
	arena := newArena()
	cur := &lineBatch{first: lineNo, done: make(chan struct{})}
	size := 0
	flush := func() {
		cur.arena = arena
		queue <- cur
		work <- cur
		if progress != nil {
			progress(int64(size))
		}
		cur = &lineBatch{first: lineNo, done: make(chan struct{})}
		size = 0
		arena = newArena()
	}
	for {
		if ctx.Err() != nil {
			rerr = ctx.Err()
			break
		}
		line, n, err := readLineInto(br, maxLine, arena)
		if err == io.EOF {
			break
		}
		if err != nil {
			rerr = fmt.Errorf("line %d: %w", lineNo, err)
			break
		}
		if cap(arena)-len(arena) >= len(line) && len(line) > 0 && &line[0] == &arena[:len(arena)+1][len(arena)] {
			arena = arena[:len(arena)+len(line)]
		}
		cur.lines = append(cur.lines, line)
		size += n
		lineNo++
		if size >= batchBytes {
			flush()
		}
	}
	if len(cur.lines) > 0 {
		flush()
	}
	close(work)
	close(queue)
	wg.Wait()
	writer.Wait()
	if rerr != nil {
		return rerr
	}
	return werr
}

// errLineTooLong names the limit a line hit.
type errLineTooLong struct{ limit int }

func (e errLineTooLong) Error() string {
	return fmt.Sprintf("line longer than --max-line (%d bytes)", e.limit)
}

// readLineInto returns the next line without its "\n" or "\r\n" and the
// bytes consumed. The line is copied into the free capacity of arena when
// it fits (the caller then extends arena over it), else into a fresh
// slice. It refuses lines longer than max without buffering them.
func readLineInto(br *bufio.Reader, max int, arena []byte) ([]byte, int, error) {
	line := arena[len(arena):len(arena):cap(arena)]
	for {
		frag, err := br.ReadSlice('\n')
		if len(line)+len(frag) > max+2 {
			return nil, 0, errLineTooLong{max}
		}
		line = append(line, frag...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			if len(line) == 0 {
				return nil, 0, io.EOF
			}
			return line, len(line), nil
		}
		if err != nil {
			return nil, 0, err
		}
		n := len(line) - 1
		if n > 0 && line[n-1] == '\r' {
			n--
		}
		if n > max {
			return nil, 0, errLineTooLong{max}
		}
		return line[:n], len(line), nil
	}
}

// freeList recycles buffers between batches.
type freeList chan []byte

// get returns a recycled buffer, or a new one with capacity n.
func (f freeList) get(n int) []byte {
	select {
	case b := <-f:
		return b[:0]
	default:
		return make([]byte, 0, n)
	}
}

// put offers b for reuse; it is dropped when the list is full.
func (f freeList) put(b []byte) {
	select {
	case f <- b[:0]:
	default:
	}
}
