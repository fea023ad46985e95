package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const tools = `"tools":[{"type":"function","function":{"name":"lookup_customer"}},{"type":"function","function":{"name":"update_ticket"}}]`

const user = `{"role":"user","content":"Look up customer C-1042 and set their email on ticket T-7."}`

func TestPlan(t *testing.T) {
	lookupCall := `{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"lookup_customer","arguments":"{}"}}]}`
	lookupResult := `{"role":"tool","tool_call_id":"call_1","content":"{\"email\":\"[[EMAIL_ADDRESS:ABC123]]\"}"}`
	updateCall := `{"role":"assistant","content":null,"tool_calls":[{"id":"call_2","type":"function","function":{"name":"update_ticket","arguments":"{}"}}]}`
	updateResult := `{"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"{\"status\":\"updated\"}"}]}`
	for _, tc := range []struct {
		name, messages string
		wantCall       string // the tool called, "" for a text answer
		wantArgs       map[string]string
		wantText       string // a substring of the text answer
	}{
		{name: "first turn looks up the customer", messages: user,
			wantCall: "lookup_customer", wantArgs: map[string]string{"customer_id": "C-1042"}},
		{name: "after the lookup updates the ticket with the token", messages: user + "," + lookupCall + "," + lookupResult,
			wantCall: "update_ticket", wantArgs: map[string]string{"ticket_id": "T-7", "email": "[[EMAIL_ADDRESS:ABC123]]"}},
		{name: "after the update answers quoting the token", messages: strings.Join([]string{user, lookupCall, lookupResult, updateCall, updateResult}, ","),
			wantText: "ticket T-7 now has contact email [[EMAIL_ADDRESS:ABC123]]"},
		{name: "a lookup without an email token updates nothing", messages: user + "," + lookupCall + `,{"role":"tool","tool_call_id":"call_1","content":"{}"}`,
			wantText: "did not update the ticket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			(&model{log: &bytes.Buffer{}}).ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/chat/completions",
				strings.NewReader(`{"model":"gpt-4o-mini","messages":[`+tc.messages+`],`+tools+`}`)))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			var resp struct {
				Object  string `json:"object"`
				Model   string `json:"model"`
				Choices []struct {
					Message struct {
						Content   *string `json:"content"`
						ToolCalls []struct {
							ID, Type string
							Function struct{ Name, Arguments string }
						} `json:"tool_calls"`
					} `json:"message"`
					FinishReason string `json:"finish_reason"`
				} `json:"choices"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			if resp.Object != "chat.completion" || resp.Model != "gpt-4o-mini" || len(resp.Choices) != 1 {
				t.Fatalf("not one chat.completion choice for the model: %s", w.Body)
			}
			c := resp.Choices[0]
			if tc.wantCall == "" {
				if c.FinishReason != "stop" || c.Message.Content == nil || !strings.Contains(*c.Message.Content, tc.wantText) {
					t.Fatalf("want a text answer with %q: %s", tc.wantText, w.Body)
				}
				return
			}
			if c.FinishReason != "tool_calls" || c.Message.Content != nil || len(c.Message.ToolCalls) != 1 {
				t.Fatalf("want one tool call: %s", w.Body)
			}
			call := c.Message.ToolCalls[0]
			if call.Function.Name != tc.wantCall || call.Type != "function" || call.ID == "" {
				t.Fatalf("called %q (type %q, id %q), want %s", call.Function.Name, call.Type, call.ID, tc.wantCall)
			}
			var args map[string]string
			if err := json.Unmarshal([]byte(call.Function.Arguments), &args); err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.wantArgs {
				if args[k] != v {
					t.Errorf("argument %s = %q, want %q", k, args[k], v)
				}
			}
		})
	}
}

func TestRefusesWhatItDoesNotSpeak(t *testing.T) {
	for _, tc := range []struct {
		name, method, path, body string
		want                     int
	}{
		{"stream", http.MethodPost, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[]}`, http.StatusBadRequest},
		{"not JSON", http.MethodPost, "/v1/chat/completions", `{`, http.StatusBadRequest},
		{"another API", http.MethodPost, "/v1/responses", `{}`, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			(&model{log: &bytes.Buffer{}}).ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)))
			var e struct {
				Error struct{ Message, Type string }
			}
			if w.Code != tc.want || json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error.Type != "invalid_request_error" {
				t.Errorf("status %d body %s, want %d with an OpenAI error", w.Code, w.Body, tc.want)
			}
		})
	}
}
