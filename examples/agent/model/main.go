// Command model is the agent example's model: a tiny upstream that speaks
// the OpenAI Chat Completions API (POST /v1/chat/completions, non-streamed,
// in the published wire format) and follows one fixed plan instead of
// thinking, so the demo runs without an API key:
//
//  1. the conversation ends with the user's message: call lookup_customer
//     with the customer id (C-…) the user named;
//  2. it ends with lookup_customer's result: call update_ticket with the
//     ticket id (T-…) the user named and the email token copied from the
//     result;
//  3. it ends with update_ticket's result: answer, quoting the email token.
//
// It only ever sees what Warden sends it, so the token it copies is the
// one Warden issued; Warden restores it in the answer for the caller.
// With -record it appends every request body it receives as a JSON line
// {"path","body"}: the demo's "What the model saw". Each answer's message
// goes to stderr as "model: answer: {…}".
//
//	model -addr 127.0.0.1:0 -addr-file model.addr -record model.jsonl
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("model", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen `address`; port 0 picks a free one (see -addr-file)")
	addrFile := fs.String("addr-file", "", "write the bound host:port to this `file` once listening")
	record := fs.String("record", "", "append each request as a JSON line {path,body} to this `file`")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	m := &model{log: stderr}
	if *record != "" {
		f, err := os.OpenFile(*record, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			fmt.Fprintln(stderr, "model: -record:", err)
			return 2
		}
		defer f.Close()
		m.record = f
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "model: -addr:", err)
		return 2
	}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()+"\n"), 0o600); err != nil {
			fmt.Fprintln(stderr, "model: -addr-file:", err)
			return 2
		}
	}
	srv := &http.Server{Handler: m, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(stderr, "model:", err)
			return 1
		}
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}
	return 0
}

// model answers Chat Completions requests by the plan in the command doc.
type model struct {
	mu     sync.Mutex
	n      int       // requests answered
	record io.Writer // nil: no recording
	log    io.Writer // each answer's message, as "model: answer: {…}"
}

// The request as far as the plan reads it.
type chatRequest struct {
	Model    string `json:"model"`
	Stream   bool   `json:"stream"`
	Messages []struct {
		Role       string          `json:"role"`
		Content    json.RawMessage `json:"content"` // a string or an array of parts
		ToolCallID string          `json:"tool_call_id"`
		ToolCalls  []struct {
			ID       string `json:"id"`
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		} `json:"tool_calls"`
	} `json:"messages"`
	Tools []struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
}

// The answer, with the API's fields in the API's order.
type (
	chatCompletion struct {
		ID                string   `json:"id"`
		Object            string   `json:"object"`
		Created           int64    `json:"created"`
		Model             string   `json:"model"`
		Choices           []choice `json:"choices"`
		Usage             usage    `json:"usage"`
		ServiceTier       string   `json:"service_tier"`
		SystemFingerprint string   `json:"system_fingerprint"`
	}
	choice struct {
		Index        int     `json:"index"`
		Message      message `json:"message"`
		Logprobs     any     `json:"logprobs"`
		FinishReason string  `json:"finish_reason"`
	}
	message struct {
		Role        string     `json:"role"`
		Content     *string    `json:"content"`
		ToolCalls   []toolCall `json:"tool_calls,omitempty"`
		Refusal     *string    `json:"refusal"`
		Annotations []any      `json:"annotations"`
	}
	toolCall struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	}
	usage struct {
		PromptTokens            int            `json:"prompt_tokens"`
		CompletionTokens        int            `json:"completion_tokens"`
		TotalTokens             int            `json:"total_tokens"`
		PromptTokensDetails     map[string]int `json:"prompt_tokens_details"`
		CompletionTokensDetails map[string]int `json:"completion_tokens_details"`
	}
)

var (
	customerID = regexp.MustCompile(`\bC-[0-9]+\b`)
	ticketID   = regexp.MustCompile(`\bT-[0-9]+\b`)
	// Warden's token for an email address: [[EMAIL_ADDRESS:…]].
	emailToken = regexp.MustCompile(`\[\[EMAIL_ADDRESS:[0-9A-Z]+\]\]`)
)

func (m *model) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	m.mu.Lock()
	m.n++
	n := m.n
	if m.record != nil && err == nil {
		line, _ := json.Marshal(struct {
			Path string `json:"path"`
			Body string `json:"body"`
		}{r.URL.Path, string(body)})
		m.record.Write(append(line, '\n'))
	}
	m.mu.Unlock()
	w.Header().Set("x-request-id", "req_model_"+strconv.Itoa(n))
	switch {
	case err != nil:
		apiError(w, http.StatusBadRequest, "could not read the request body")
		return
	case r.Method != http.MethodPost || strings.TrimPrefix(r.URL.Path, "/v1") != "/chat/completions":
		apiError(w, http.StatusNotFound, "this model only answers POST /v1/chat/completions")
		return
	}
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		apiError(w, http.StatusBadRequest, "the request body is not valid JSON")
		return
	}
	if req.Stream {
		apiError(w, http.StatusBadRequest, "this model does not stream")
		return
	}
	msg := plan(&req)
	finish := "stop"
	out := 0
	if msg.Content != nil {
		out = len(*msg.Content)/4 + 1
	}
	if len(msg.ToolCalls) > 0 {
		finish = "tool_calls"
		for i := range msg.ToolCalls {
			msg.ToolCalls[i].ID = fmt.Sprintf("call_model_%d_%d", n, i)
			out += len(msg.ToolCalls[i].Function.Arguments)/4 + 1
		}
	}
	in := len(body)/4 + 1
	resp := chatCompletion{
		ID: "chatcmpl-model-" + strconv.Itoa(n), Object: "chat.completion", Created: time.Now().Unix(), Model: req.Model,
		Choices: []choice{{Index: 0, Message: msg, FinishReason: finish}},
		Usage: usage{PromptTokens: in, CompletionTokens: out, TotalTokens: in + out,
			PromptTokensDetails:     map[string]int{"cached_tokens": 0, "audio_tokens": 0},
			CompletionTokensDetails: map[string]int{"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
		ServiceTier: "default", SystemFingerprint: "fp_agent_example",
	}
	line, _ := json.Marshal(msg)
	m.mu.Lock()
	fmt.Fprintf(m.log, "model: answer: %s\n", line)
	m.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}

// plan is the model's next message for a conversation.
func plan(req *chatRequest) message {
	offered := map[string]bool{}
	for _, t := range req.Tools {
		offered[t.Function.Name] = true
	}
	names := map[string]string{} // tool_call_id → tool name
	var user, token string
	for _, m := range req.Messages {
		switch m.Role {
		case "user":
			user = contentText(m.Content)
		case "assistant":
			for _, c := range m.ToolCalls {
				names[c.ID] = c.Function.Name
			}
		case "tool":
			if t := emailToken.FindString(contentText(m.Content)); t != "" {
				token = t
			}
		}
	}
	last := ""
	if k := len(req.Messages); k > 0 && req.Messages[k-1].Role == "tool" {
		last = names[req.Messages[k-1].ToolCallID]
	}
	cust, ticket := customerID.FindString(user), ticketID.FindString(user)
	switch {
	case last == "" && cust != "" && offered["lookup_customer"]:
		return callMessage("lookup_customer", map[string]string{"customer_id": cust})
	case last == "lookup_customer" && token != "" && ticket != "" && offered["update_ticket"]:
		return callMessage("update_ticket", map[string]string{"ticket_id": ticket, "email": token,
			"note": "Contact email confirmed from the CRM record."})
	case last == "update_ticket":
		return textMessage(fmt.Sprintf("Done: ticket %s now has contact email %s (customer %s).", ticket, token, cust))
	case last == "lookup_customer":
		return textMessage("I found the customer but no email token in the record, so I did not update the ticket.")
	}
	return textMessage("Tell me a customer id (C-…) and a ticket id (T-…), and offer me lookup_customer and update_ticket.")
}

func callMessage(name string, args map[string]string) message {
	var c toolCall
	c.Type = "function"
	c.Function.Name = name
	b, _ := json.Marshal(args)
	c.Function.Arguments = string(b)
	return message{Role: "assistant", ToolCalls: []toolCall{c}, Annotations: []any{}}
}

func textMessage(text string) message {
	return message{Role: "assistant", Content: &text, Annotations: []any{}}
}

// contentText returns a string content, or the text parts of an array
// of content parts joined by newlines.
func contentText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Text string `json:"text"`
	}
	json.Unmarshal(raw, &parts)
	var out []string
	for _, p := range parts {
		out = append(out, p.Text)
	}
	return strings.Join(out, "\n")
}

// apiError answers in the OpenAI error shape.
func apiError(w http.ResponseWriter, status int, msg string) {
	code := any(nil)
	if status == http.StatusNotFound {
		code = "not_found"
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error", "param": nil, "code": code}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
