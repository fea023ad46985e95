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
// lines[0]) into output bytes.
type batchFunc func(first int, lines [][]byte) ([]byte, error)

type lineBatch struct {
	first int
	lines [][]byte
	out   []byte
	err   error
	done  chan struct{}
}

// processLines reads r line by line and runs fn over batches of about a
// megabyte on every core, writing results in input order. Memory stays
// bounded by a few batches plus the longest line (at most maxLine).
// progress, when non-nil, is told how many bytes were read.
func processLines(ctx context.Context, r io.Reader, w io.Writer, maxLine int, progress func(n int64), fn batchFunc) error {
	const batchBytes = 1 << 20
	workers := runtime.GOMAXPROCS(0)
	queue := make(chan *lineBatch, workers)
	work := make(chan *lineBatch, workers)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				b.out, b.err = fn(b.first, b.lines)
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
		}
	}()
	br := bufio.NewReaderSize(r, 1<<20)
	lineNo := 1
	var rerr error
	cur := &lineBatch{first: lineNo, done: make(chan struct{})}
	size := 0
	flush := func() {
		queue <- cur
		work <- cur
		if progress != nil {
			progress(int64(size))
		}
		cur = &lineBatch{first: lineNo, done: make(chan struct{})}
		size = 0
	}
	for {
		if ctx.Err() != nil {
			rerr = ctx.Err()
			break
		}
		line, n, err := readLine(br, maxLine)
		if err == io.EOF {
			break
		}
		if err != nil {
			rerr = fmt.Errorf("line %d: %w", lineNo, err)
			break
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

// readLine returns the next line without its "\n" or "\r\n", in a fresh
// slice, and the bytes consumed. It refuses lines longer than max without
// buffering them.
func readLine(br *bufio.Reader, max int) ([]byte, int, error) {
	var line []byte
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
