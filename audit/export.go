package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wardenhq/warden/store"
)

// Export formats for SIEMs.
const (
	// FormatJSONL writes one JSON object per line: the entry with its log
	// index first, {"index":N,"v":2,"kind":…}.
	FormatJSONL = "jsonl"
	// FormatCEF writes ArcSight Common Event Format lines (Splunk,
	// Elastic, Sentinel and most SIEMs read it).
	FormatCEF = "cef"
)

// ExportOptions selects what [Export] writes.
type ExportOptions struct {
	// Format is FormatJSONL (default) or FormatCEF.
	Format string
	// FromIndex skips entries before it.
	FromIndex int64
	// Since skips entries whose time is before it (zero: none).
	Since time.Time
	// Version is the product version in CEF headers. Default "dev".
	Version string
}

// Entries calls fn for each stored entry from index from, in order,
// until fn returns an error (returned) or the log ends.
func Entries(ctx context.Context, db *store.DB, from int64, fn func(idx int64, entry []byte) error) error {
	return scanRows(ctx, db, from, false, func(idx int64, entry, _ []byte) error { return fn(idx, entry) })
}

// Export writes the log's entries to w and returns how many it wrote.
// It does not verify them; run [Verify] first.
func Export(ctx context.Context, db *store.DB, w io.Writer, opt ExportOptions) (int64, error) {
	if opt.Format == "" {
		opt.Format = FormatJSONL
	}
	if opt.Format != FormatJSONL && opt.Format != FormatCEF {
		return 0, fmt.Errorf("audit: export format %q: want jsonl or cef", opt.Format)
	}
	if opt.Version == "" {
		opt.Version = "dev"
	}
	since := ""
	if !opt.Since.IsZero() {
		since = opt.Since.UTC().Format(timeFormat)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var n int64
	var line []byte
	err := Entries(ctx, db, opt.FromIndex, func(idx int64, entry []byte) error {
		if since != "" && entryTime(entry) < since {
			return nil
		}
		var err error
		line, err = FormatEntry(line[:0], idx, entry, opt.Format, opt.Version)
		if err != nil {
			return err
		}
		n++
		_, err = bw.Write(line)
		return err
	})
	if err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// entryTime returns the entry's "time" field (canonical text), or "".
func entryTime(entry []byte) string {
	var e struct {
		Time string `json:"time"`
	}
	json.Unmarshal(entry, &e)
	return e.Time
}

// FormatEntry appends entry index idx to dst as one line in format.
func FormatEntry(dst []byte, idx int64, entry []byte, format, version string) ([]byte, error) {
	if format == FormatJSONL {
		if len(entry) < 2 || entry[0] != '{' {
			return dst, fmt.Errorf("audit: entry %d is not a JSON object", idx)
		}
		dst = append(dst, `{"index":`...)
		dst = strconv.AppendInt(dst, idx, 10)
		if entry[1] != '}' {
			dst = append(dst, ',')
		}
		dst = append(dst, entry[1:]...)
		return append(dst, '\n'), nil
	}
	var e map[string]any
	if err := json.Unmarshal(entry, &e); err != nil {
		return dst, fmt.Errorf("audit: entry %d is not a JSON object", idx)
	}
	return appendCEF(dst, idx, e, version), nil
}

// appendCEF formats one entry as
// CEF:0|Warden|Warden|version|signature id|name|severity|extension.
func appendCEF(dst []byte, idx int64, e map[string]any, version string) []byte {
	str := func(k string) string { s, _ := e[k].(string); return s }
	num := func(k string) int64 { f, _ := e[k].(float64); return int64(f) }
	var sig, name string
	sev := 1
	ext := [][2]string{{"externalId", strconv.FormatInt(idx, 10)}}
	if t, err := time.Parse(time.RFC3339Nano, str("time")); err == nil {
		ext = append(ext, [2]string{"rt", strconv.FormatInt(t.UnixMilli(), 10)})
	}
	switch kind := str("kind"); kind {
	case KindRequest, KindIntent:
		// A request entry (v1: a whole request; v2: one refused before
		// any upstream call) or the intent of one that goes upstream.
		sig = kind
		outcome := str("decision")
		if kind == KindRequest && str("error") != "" {
			outcome = str("error")
		}
		name = "gateway " + kind + " " + outcome
		switch {
		case num("leaks") > 0:
			sev = 7
		case str("decision") == "deny":
			sev = 5
		case str("decision") == "deidentify":
			sev = 3
		}
		ext = append(ext,
			[2]string{"suser", str("principal")},
			[2]string{"cs1Label", "tenant"}, [2]string{"cs1", str("tenant")},
			[2]string{"request", str("endpoint")},
			[2]string{"cs2Label", "model"}, [2]string{"cs2", str("model")},
			[2]string{"cs3Label", "findings"}, [2]string{"cs3", countsText(e["findings"])},
			[2]string{"cs4Label", "requestId"}, [2]string{"cs4", str("request_id")},
			[2]string{"cs5Label", "upstream"}, [2]string{"cs5", str("upstream")},
			[2]string{"cs6Label", "policy"}, [2]string{"cs6", str("policy")},
			[2]string{"outcome", outcome},
		)
		if kind == KindRequest {
			ext = append(ext,
				[2]string{"cn1Label", "status"}, [2]string{"cn1", strconv.FormatInt(num("status"), 10)},
				[2]string{"cn2Label", "leaks"}, [2]string{"cn2", strconv.FormatInt(num("leaks"), 10)},
			)
		}
	case KindCompletion:
		sig, name = kind, "gateway completion"
		outcome := "ok"
		switch {
		case num("leaks") > 0:
			sev = 7
		case str("error") != "":
			sev, outcome = 3, str("error")
		}
		name += " " + outcome
		ext = append(ext,
			[2]string{"suser", str("principal")},
			[2]string{"cs1Label", "tenant"}, [2]string{"cs1", str("tenant")},
			[2]string{"cs4Label", "requestId"}, [2]string{"cs4", str("request_id")},
			[2]string{"outcome", outcome},
			[2]string{"cn1Label", "status"}, [2]string{"cn1", strconv.FormatInt(num("status"), 10)},
			[2]string{"cn2Label", "leaks"}, [2]string{"cn2", strconv.FormatInt(num("leaks"), 10)},
			[2]string{"cn3Label", "intent"}, [2]string{"cn3", strconv.FormatInt(num("intent"), 10)},
		)
	case KindAborted:
		sig, name, sev = kind, "gateway request aborted", 5
		ext = append(ext,
			[2]string{"suser", str("principal")},
			[2]string{"cs1Label", "tenant"}, [2]string{"cs1", str("tenant")},
			[2]string{"cs4Label", "requestId"}, [2]string{"cs4", str("request_id")},
			[2]string{"reason", str("reason")},
			[2]string{"cn3Label", "intent"}, [2]string{"cn3", strconv.FormatInt(num("intent"), 10)},
		)
	case KindAdmin:
		sig = "admin." + str("action")
		name = str("action")
		sev = 3
		ext = append(ext,
			[2]string{"suser", str("actor")},
			[2]string{"cs1Label", "tenant"}, [2]string{"cs1", str("tenant")},
			[2]string{"cs2Label", "target"}, [2]string{"cs2", str("target")},
			[2]string{"cs3Label", "details"}, [2]string{"cs3", detailsText(e["details"])},
		)
	default:
		sig, name = "unknown", "unknown entry kind"
	}
	dst = append(dst, "CEF:0|Warden|Warden|"...)
	dst = append(dst, cefHeader(version)...)
	dst = append(dst, '|')
	dst = append(dst, cefHeader(sig)...)
	dst = append(dst, '|')
	dst = append(dst, cefHeader(name)...)
	dst = append(dst, '|')
	dst = strconv.AppendInt(dst, int64(sev), 10)
	dst = append(dst, '|')
	first := true
	for _, kv := range ext {
		if kv[1] == "" {
			continue
		}
		if !first {
			dst = append(dst, ' ')
		}
		first = false
		dst = append(dst, kv[0]...)
		dst = append(dst, '=')
		dst = append(dst, cefValue(kv[1])...)
	}
	return append(dst, '\n')
}

// countsText renders {"EMAIL_ADDRESS":2} as "EMAIL_ADDRESS:2", sorted.
func countsText(v any) string {
	return pairsText(v, func(x any) string {
		f, _ := x.(float64)
		return strconv.FormatInt(int64(f), 10)
	})
}

// detailsText renders {"k":"v"} as "k:v", sorted.
func detailsText(v any) string {
	return pairsText(v, func(x any) string {
		s, _ := x.(string)
		return s
	})
}

// pairsText renders a JSON object as "key:value" pairs joined by
// commas, in key order, each value written by value.
func pairsText(v any, value func(any) string) string {
	m, _ := v.(map[string]any)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte(':')
		b.WriteString(value(m[k]))
	}
	return b.String()
}

// cefHeader escapes a CEF header field: backslash and pipe.
var cefHeaderEscaper = strings.NewReplacer(`\`, `\\`, `|`, `\|`, "\n", " ", "\r", " ")

func cefHeader(s string) string { return cefHeaderEscaper.Replace(s) }

// cefValue escapes a CEF extension value: backslash, equals, newlines.
var cefValueEscaper = strings.NewReplacer(`\`, `\\`, `=`, `\=`, "\n", `\n`, "\r", `\r`)

func cefValue(s string) string { return cefValueEscaper.Replace(s) }
