package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/wardenhq/warden/detect"
)

const detectHelp = `usage: warden detect [flags] [FILE…|-]

Finds sensitive data (PII, card data, health identifiers, credentials,
network identifiers) and prints where it is. Reads standard input when no
file (or "-") is given. Values are not printed unless --show-values.

Modes:
  (default)  text: one line per finding, "FILE:LINE:COL-COL TYPE CATEGORY SCORE"
  --jsonl    each input line is one document; each output line is exactly
             {"findings":[{"type","category","start","end","score"}]}
             with byte offsets into that line (one output line per input line)
  --json     each file is one JSON document; findings carry their JSON path

Exit codes: 0 success (with or without findings; see --fail-on-findings),
1 findings present with --fail-on-findings, 2 usage, configuration or I/O
error (including an input line over --max-line).

Flags:
`

type detectOptions struct {
	jsonl, json, showValues, explain, failOnFindings bool
	maxLine                                          int
}

func runDetect(ctx context.Context, c *cli, args []string) int {
	fs := flag.NewFlagSet("detect", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	var o detectOptions
	configPath := fs.String("config", "", "config `file` (detect: section tunes thresholds, lists, custom recognizers)")
	fs.BoolVar(&o.jsonl, "jsonl", false, "treat each input line as a document and print one JSON line per input line")
	fs.BoolVar(&o.json, "json", false, "treat each file as a JSON document and report JSON paths")
	fs.BoolVar(&o.showValues, "show-values", false, "include the matched values in the output (they are sensitive)")
	fs.BoolVar(&o.explain, "explain", false, "show the recognizer and the context words behind each score")
	fs.BoolVar(&o.failOnFindings, "fail-on-findings", false, "exit 1 when anything is found (for CI and pre-commit checks)")
	fs.IntVar(&o.maxLine, "max-line", 64<<20, "largest input line (or JSON document) in `bytes`")
	fs.Usage = func() { fmt.Fprint(c.stderr, detectHelp); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if o.jsonl && o.json {
		fmt.Fprintln(c.stderr, "warden detect: --jsonl and --json exclude each other")
		return exitUsage
	}
	cfg, err := loadConfig(*configPath, c.getenv)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden detect:", err)
		return exitUsage
	}
	dcfg := cfg.Detect
	dcfg.Explain = o.explain
	eng, err := detect.New(dcfg)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden detect:", err)
		return exitUsage
	}
	jsonO, err := detect.CompileJSON(cfg.Detect.JSON)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden detect:", err)
		return exitUsage
	}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	// The live heap is a few megabytes (tables and a few batches), most
	// of it built before main; collecting at the default 100% growth
	// would spend a core's worth of time re-marking it for nothing.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	out := bufio.NewWriterSize(c.stdout, 1<<20)
	defer out.Flush()
	found := false
	for _, name := range files {
		var r io.Reader = c.stdin
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				fmt.Fprintln(c.stderr, "warden detect:", err)
				return exitUsage
			}
			defer f.Close()
			r = f
		}
		var n int
		switch {
		case o.json:
			n, err = detectJSONDoc(eng, jsonO, r, out, name, &o)
		default:
			n, err = detectLines(ctx, eng, r, out, name, &o)
		}
		if err != nil {
			out.Flush()
			fmt.Fprintf(c.stderr, "warden detect: %s: %v\n", displayName(name), err)
			return exitUsage
		}
		found = found || n > 0
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintln(c.stderr, "warden detect: writing output:", err)
		return exitUsage
	}
	if found && o.failOnFindings {
		return exitFailure
	}
	return exitOK
}

func displayName(name string) string {
	if name == "-" {
		return "<stdin>"
	}
	return name
}

// detectLines scans line by line; see processLines.
func detectLines(ctx context.Context, eng *detect.Engine, r io.Reader, w io.Writer, name string, o *detectOptions) (int, error) {
	var mu sync.Mutex
	total := 0
	err := processLines(ctx, r, w, o.maxLine, nil, func(dst []byte, first int, lines [][]byte) ([]byte, error) {
		out, n := formatBatch(dst, eng, first, lines, name, o)
		mu.Lock()
		total += n
		mu.Unlock()
		return out, nil
	})
	return total, err
}

func formatBatch(out []byte, eng *detect.Engine, first int, lines [][]byte, name string, o *detectOptions) ([]byte, int) {
	n := 0
	var fs []detect.Finding
	for i, line := range lines {
		fs = eng.AppendScan(fs[:0], bytesString(line))
		n += len(fs)
		if o.jsonl {
			out = appendFindingsJSON(out, fs, line, o)
			out = append(out, '\n')
			continue
		}
		for _, f := range fs {
			out = appendFindingText(out, f, displayName(name), first+i, line, o)
		}
	}
	return out, n
}

// appendFindingsJSON writes {"findings":[…]} by hand: encoding/json's
// reflection would cost more than the scan.
func appendFindingsJSON(out []byte, fs []detect.Finding, src []byte, o *detectOptions) []byte {
	out = append(out, `{"findings":[`...)
	for i, f := range fs {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendFindingJSON(out, f, src, o)
	}
	return append(out, "]}"...)
}

func appendFindingJSON(out []byte, f detect.Finding, src []byte, o *detectOptions) []byte {
	out = append(out, `{"type":`...)
	out = appendJSONString(out, f.Type)
	out = append(out, `,"category":`...)
	out = appendJSONString(out, string(f.Category))
	out = append(out, `,"start":`...)
	out = strconv.AppendInt(out, int64(f.Start), 10)
	out = append(out, `,"end":`...)
	out = strconv.AppendInt(out, int64(f.End), 10)
	out = append(out, `,"score":`...)
	out = appendScore(out, f.Score)
	if f.Path != "" {
		out = append(out, `,"path":`...)
		out = appendJSONString(out, f.Path)
	}
	if o.explain {
		out = append(out, `,"recognizer":`...)
		out = strconv.AppendQuote(out, f.Recognizer)
		if len(f.Context) > 0 {
			out = append(out, `,"context":[`...)
			for i, w := range f.Context {
				if i > 0 {
					out = append(out, ',')
				}
				out = appendJSONString(out, w)
			}
			out = append(out, ']')
		}
	}
	if o.showValues && src != nil {
		out = append(out, `,"value":`...)
		out = appendJSONString(out, string(src[f.Start:f.End]))
	}
	return append(out, '}')
}

func appendFindingText(out []byte, f detect.Finding, name string, line int, src []byte, o *detectOptions) []byte {
	out = fmt.Appendf(out, "%s:%d:%d-%d %s %s %.2f", name, line, f.Start+1, f.End, f.Type, f.Category, f.Score)
	if o.explain {
		out = fmt.Appendf(out, " recognizer=%s", f.Recognizer)
		if len(f.Context) > 0 {
			out = fmt.Appendf(out, " context=%q", f.Context)
		}
	}
	if o.showValues {
		out = append(out, " value="...)
		out = appendJSONString(out, string(src[f.Start:f.End]))
	}
	return append(out, '\n')
}

// appendScore writes a score with two decimals, exactly as
// strconv.AppendFloat(out, f, 'f', 2, 64) does, without its cost for the
// usual case: a score in [0,1] whose hundredfold is near an integer k
// (within 0.25, far from a rounding tie) rounds to k/100.
func appendScore(out []byte, f float64) []byte {
	if f >= 0 && f <= 1 && !math.Signbit(f) {
		c := f * 100
		r := math.Round(c)
		if math.Abs(c-r) < 0.25 {
			k := int(r)
			return append(out, byte('0'+k/100), '.', byte('0'+k/10%10), byte('0'+k%10))
		}
	}
	return strconv.AppendFloat(out, f, 'f', 2, 64)
}

// jsonPlain marks the bytes appendJSONString copies as they are.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != 0x7f
	}
	return t
}()

// appendJSONString writes s as a JSON string; invalid UTF-8 becomes
// U+FFFD so the output always parses.
func appendJSONString(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	// Most strings (types, categories) need no escaping: copy the plain
	// prefix at once.
	plain := 0
	for plain < len(s) && jsonPlain[s[plain]] {
		plain++
	}
	out = append(out, s[:plain]...)
	for i := plain; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				out = append(out, '\\', c)
			case c == '\n':
				out = append(out, '\\', 'n')
			case c == '\r':
				out = append(out, '\\', 'r')
			case c == '\t':
				out = append(out, '\\', 't')
			case c < 0x20 || c == 0x7f:
				out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			default:
				out = append(out, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			out = append(out, `\ufffd`...)
		} else {
			out = append(out, s[i:i+size]...)
		}
		i += size
	}
	return append(out, '"')
}

// detectJSONDoc scans one JSON document (a whole file) and prints its
// findings with their JSON paths: offsets are into the decoded string
// value; value_start/value_end locate the literal in the file.
func detectJSONDoc(eng *detect.Engine, jsonO *detect.JSONOptions, r io.Reader, w io.Writer, name string, o *detectOptions) (int, error) {
	doc, err := io.ReadAll(io.LimitReader(r, int64(o.maxLine)+1))
	if err != nil {
		return 0, err
	}
	if len(doc) > o.maxLine {
		return 0, fmt.Errorf("JSON document larger than --max-line (%d bytes)", o.maxLine)
	}
	fs, err := eng.ScanJSON(doc, jsonO)
	if err != nil {
		return 0, err
	}
	out := []byte(`{"findings":[`)
	for i, f := range fs {
		if i > 0 {
			out = append(out, ',')
		}
		var src []byte
		if o.showValues {
			// The decoded value is not kept; print the literal.
			src = doc
			f.Finding.Start, f.Finding.End = f.ValueStart, f.ValueEnd
		}
		out = appendFindingJSON(out, f.Finding, src, o)
		out = fmt.Appendf(out[:len(out)-1], `,"value_start":%d,"value_end":%d}`, f.ValueStart, f.ValueEnd)
	}
	out = append(out, "]}\n"...)
	_, err = w.Write(out)
	return len(fs), err
}

// bytesString views b as a string for scanning, without copying; b must
// not change while the string is used.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
