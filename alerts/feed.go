package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/audit/event"
	"github.com/wardenhq/warden/drift"
	"github.com/wardenhq/warden/store"
)

// The feed: audit entries to drift events.
//
// Every kind of entry is read; only names and counts are kept:
//
//	request     findings, and a refusal when its status is 4xx; an MCP
//	            call refused with tool_not_approved is a tool refusal
//	intent      findings
//	completion  leaks, with the model of its intent (remembered from
//	            the intent, or read from the log for an intent read
//	            before a restart)
//	aborted     forgets its intent
//	admin       nothing
//
// The model of an MCP request (which names none) is "mcp:<server>".

// toolNotApproved is the gateway's error code for an MCP call refused
// for its tool's definition, and reasonChanged the end of the reason it
// records when the definition differs from its pin (gateway/mcp.go,
// toolVerdict.reason). Both are the gateway's audit vocabulary, kept in
// this one place.
const (
	toolNotApproved = "tool_not_approved"
	reasonChanged   = "its definition changed since it was approved"
)

// maxOpenIntents bounds the intents whose model the feed remembers
// until their completion; past it the oldest are read back from the log
// when their completion comes.
const maxOpenIntents = 1 << 16

// entry is the part of a canonical audit entry the feed reads.
type entry struct {
	Kind      string         `json:"kind"`
	Time      string         `json:"time"`
	Intent    int64          `json:"intent"`
	Principal string         `json:"principal"`
	Model     string         `json:"model"`
	Status    int            `json:"status"`
	Error     string         `json:"error"`
	Findings  map[string]int `json:"findings"`
	Reasons   []string       `json:"reasons"`
	Leaks     int            `json:"leaks"`
	MCP       *struct {
		Server   string `json:"server"`
		Tool     string `json:"tool"`
		ToolHash string `json:"tool_hash"`
	} `json:"mcp"`
}

// feed turns entries into events. It remembers each open intent's model
// for its completion.
type feed struct {
	db     *store.DB
	models map[int64]string
	order  []int64 // intents in models, oldest first (may hold closed ones)
}

func newFeed(db *store.DB) *feed { return &feed{db: db, models: map[int64]string{}} }

// reset forgets the remembered intents (the evaluator reloaded its
// state: the next entries may come from anywhere).
func (f *feed) reset() {
	clear(f.models)
	f.order = f.order[:0]
}

var errNotEntry = errors.New("alerts: audit entry is not a JSON object of a known form")

// event decodes entry idx; ok is false for entries that tell the
// detector nothing.
func (f *feed) event(ctx context.Context, idx int64, raw []byte) (drift.Event, bool, error) {
	var e entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return drift.Event{}, false, errNotEntry
	}
	t, err := time.Parse(time.RFC3339Nano, e.Time)
	if err != nil {
		return drift.Event{}, false, errNotEntry
	}
	model := e.Model
	if model == "" && e.MCP != nil && e.MCP.Server != "" {
		model = "mcp:" + e.MCP.Server
	}
	ev := drift.Event{Index: idx, Time: t, Principal: e.Principal, Model: model}
	switch e.Kind {
	case audit.KindRequest:
		ev.Findings = e.Findings
		if e.Status >= 400 && e.Status < 500 {
			ev.Refused, ev.Error = true, e.Error
		}
		if e.Error == toolNotApproved && e.MCP != nil && e.MCP.ToolHash != "" {
			tr := &drift.ToolRefusal{Server: e.MCP.Server, Tool: e.MCP.Tool, Hash: e.MCP.ToolHash}
			for _, r := range e.Reasons {
				if strings.HasSuffix(r, reasonChanged) {
					tr.Changed = true
				}
			}
			ev.Tool = tr
		}
		ev.Leaks = e.Leaks // version 1 request entries carry their leaks
	case audit.KindIntent:
		ev.Findings = e.Findings
		f.remember(idx, model)
	case audit.KindCompletion:
		m, err := f.intentModel(ctx, e.Intent)
		if err != nil {
			return drift.Event{}, false, err
		}
		ev.Model, ev.Leaks = m, e.Leaks
	case audit.KindAborted:
		delete(f.models, e.Intent)
		return drift.Event{}, false, nil
	default:
		return drift.Event{}, false, nil
	}
	if ev.Principal == "" {
		ev.Principal = event.Unauthenticated
	}
	return ev, true, nil
}

func (f *feed) remember(idx int64, model string) {
	if len(f.order) >= 2*maxOpenIntents {
		// Compact: keep the intents still open.
		kept := f.order[:0]
		for _, i := range f.order {
			if _, ok := f.models[i]; ok {
				kept = append(kept, i)
			}
		}
		f.order = kept
	}
	for len(f.models) >= maxOpenIntents && len(f.order) > 0 {
		delete(f.models, f.order[0])
		f.order = f.order[1:]
	}
	f.models[idx] = model
	f.order = append(f.order, idx)
}

// intentModel is the model of intent idx, which a completion closes.
func (f *feed) intentModel(ctx context.Context, idx int64) (string, error) {
	if m, ok := f.models[idx]; ok {
		delete(f.models, idx)
		return m, nil
	}
	if idx < 0 {
		return "", nil
	}
	var model string
	errStop := errors.New("stop")
	err := audit.Entries(ctx, f.db, idx, func(i int64, raw []byte) error {
		if i == idx {
			var e entry
			if json.Unmarshal(raw, &e) == nil && e.Kind == audit.KindIntent {
				model = e.Model
				if model == "" && e.MCP != nil && e.MCP.Server != "" {
					model = "mcp:" + e.MCP.Server
				}
			}
		}
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return "", err
	}
	return model, nil
}
