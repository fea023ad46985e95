package drift

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
)

// State
//
// A detector's state is a small global record and one record per
// series; [Detector.Changes] returns the global record and the series
// touched since the last call, so a caller persists a few rows per
// evaluation rather than every baseline, and [Restore] rebuilds the
// detector from the last global record and every series record.
//
// The global record is JSON:
//
//	{"v":1,"open":<bucket or null>,"dropped":N,
//	 "tools":[{"server","tool","hash"},…]}
//
// A series record is binary, little-endian:
//
//	u8  version (1)
//	i64 first bucket, i64 open bucket
//	f64 count, u8 fired
//	f64 μ, f64 σ², u32 buckets folded
//	u8  slots that follow, each: u8 slot, f32 m, f32 v, u8 weeks
//	u8  error codes that follow, each: u8 length, code, u32 count
//
// about 1.7 KB for a series with every slot filled.

const seriesVersion = 1

// SeriesRecord is the persisted state of one series.
type SeriesRecord struct {
	Key  Key
	Data []byte
}

// Changes is what changed since the last call to Changes.
type Changes struct {
	// Global is the detector-wide record, nil when it did not change.
	Global []byte
	// Series are the records of the series that changed.
	Series []SeriesRecord
}

type globalRecord struct {
	V       int          `json:"v"`
	Open    *int64       `json:"open"`
	Dropped int64        `json:"dropped"`
	Tools   []toolRecord `json:"tools"`
}

type toolRecord struct {
	Server string `json:"server"`
	Tool   string `json:"tool"`
	Hash   string `json:"hash"`
}

// Changes returns the records changed since the last call (the first
// call after New or Restore returns only what changed since), and
// forgets them.
func (d *Detector) Changes() Changes {
	var ch Changes
	if d.global {
		ch.Global = d.globalRecord()
		d.global = false
	}
	if len(d.dirty) > 0 {
		keys := make([]Key, 0, len(d.dirty))
		for k := range d.dirty {
			keys = append(keys, k)
		}
		sortKeys(keys)
		for _, k := range keys {
			if s := d.series[k]; s != nil {
				ch.Series = append(ch.Series, SeriesRecord{Key: k, Data: s.marshal()})
			}
		}
		clear(d.dirty)
	}
	return ch
}

func (d *Detector) globalRecord() []byte {
	g := globalRecord{V: 1, Dropped: d.dropped, Tools: []toolRecord{}}
	if d.open != noBucket {
		o := d.open
		g.Open = &o
	}
	for k, h := range d.tools {
		g.Tools = append(g.Tools, toolRecord{k.server, k.tool, h})
	}
	sort.Slice(g.Tools, func(i, j int) bool {
		if g.Tools[i].Server != g.Tools[j].Server {
			return g.Tools[i].Server < g.Tools[j].Server
		}
		return g.Tools[i].Tool < g.Tools[j].Tool
	})
	b, _ := json.Marshal(g)
	return b
}

// Restore rebuilds a detector from its last global record (nil: none
// yet) and its series records.
func Restore(cfg Config, global []byte, recs []SeriesRecord) (*Detector, error) {
	d, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if len(global) > 0 {
		var g globalRecord
		if err := json.Unmarshal(global, &g); err != nil || g.V != 1 {
			return nil, errors.New("drift: restore: global record is not a version 1 record")
		}
		if g.Open != nil {
			d.open = *g.Open
		}
		d.dropped = g.Dropped
		for _, t := range g.Tools {
			d.tools[toolKey{t.Server, t.Tool}] = t.Hash
		}
	}
	for _, r := range recs {
		s, err := unmarshalSeries(r.Data)
		if err != nil {
			return nil, fmt.Errorf("drift: restore %s: %w", r.Key, err)
		}
		switch r.Key.Kind {
		case Findings:
			if d.types[r.Key.Principal] == nil {
				d.types[r.Key.Principal] = map[string]bool{}
			}
			d.types[r.Key.Principal][r.Key.Type] = true
		case Refusals:
		default:
			return nil, fmt.Errorf("drift: restore: unknown series kind %q", r.Key.Kind)
		}
		if s.bucket == d.open {
			d.touched[r.Key] = true
		}
		d.series[r.Key] = s
	}
	return d, nil
}

func (s *series) marshal() []byte {
	b := make([]byte, 0, 64+10*slotsPerWeek)
	b = append(b, seriesVersion)
	b = binary.LittleEndian.AppendUint64(b, uint64(s.first))
	b = binary.LittleEndian.AppendUint64(b, uint64(s.bucket))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s.count))
	if s.fired {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s.mean))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s.vari))
	b = binary.LittleEndian.AppendUint32(b, s.n)
	n := 0
	for _, sl := range s.slots {
		if sl.n > 0 {
			n++
		}
	}
	b = append(b, byte(n)) // at most 168
	for i, sl := range s.slots {
		if sl.n == 0 {
			continue
		}
		b = append(b, byte(i))
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(sl.mean))
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(sl.vari))
		b = append(b, sl.n)
	}
	codes := make([]string, 0, len(s.codes))
	for c := range s.codes {
		if len(c) <= 255 {
			codes = append(codes, c)
		}
	}
	sort.Strings(codes)
	if len(codes) > 255 {
		codes = codes[:255]
	}
	b = append(b, byte(len(codes)))
	for _, c := range codes {
		b = append(b, byte(len(c)))
		b = append(b, c...)
		b = binary.LittleEndian.AppendUint32(b, uint32(s.codes[c]))
	}
	return b
}

var errShort = errors.New("series record is truncated")

func unmarshalSeries(b []byte) (*series, error) {
	r := reader{b: b}
	if v := r.u8(); v != seriesVersion {
		return nil, fmt.Errorf("series record version %d, want %d", v, seriesVersion)
	}
	s := &series{}
	s.first = int64(r.u64())
	s.bucket = int64(r.u64())
	s.count = math.Float64frombits(r.u64())
	s.fired = r.u8() == 1
	s.mean = math.Float64frombits(r.u64())
	s.vari = math.Float64frombits(r.u64())
	s.n = r.u32()
	for range int(r.u8()) {
		i := int(r.u8())
		if i >= slotsPerWeek {
			return nil, errors.New("series record names a slot past 167")
		}
		s.slots[i] = slot{mean: math.Float32frombits(r.u32()), vari: math.Float32frombits(r.u32()), n: r.u8()}
	}
	if nc := int(r.u8()); nc > 0 {
		s.codes = make(map[string]int, nc)
		for range nc {
			c := r.bytes(int(r.u8()))
			s.codes[string(c)] = int(r.u32())
		}
	}
	if r.short {
		return nil, errShort
	}
	if len(r.b) != 0 {
		return nil, errors.New("series record has trailing bytes")
	}
	return s, nil
}

// reader reads a series record; short is set once it runs out.
type reader struct {
	b     []byte
	short bool
}

func (r *reader) bytes(n int) []byte {
	if len(r.b) < n {
		r.short, r.b = true, nil
		return make([]byte, n)
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() uint8   { return r.bytes(1)[0] }
func (r *reader) u32() uint32 { return binary.LittleEndian.Uint32(r.bytes(4)) }
func (r *reader) u64() uint64 { return binary.LittleEndian.Uint64(r.bytes(8)) }
