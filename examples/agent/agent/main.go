// Command agent is the agent of the agent example: it talks to a model
// with the official OpenAI Go client and to a CRM MCP server with the
// official Go MCP SDK, both through Warden and with one Warden API key.
//
//	WARDEN_API_KEY=wdn_… agent -url http://127.0.0.1:8080 \
//	    -prompt "Look up customer C-1042 and set their email on ticket T-7."
//
// It lists the tools Warden shows it at /mcp/crm, offers them to the model
// as OpenAI function tools, and loops — model, tool call, MCP call through
// Warden, tool result back to the model — until the model answers. Every
// step is printed: each tool call as the agent received it, each tool
// result as the agent received it (which is exactly what it sends the
// model), and the final answer. It holds no CRM credential: Warden adds
// the CRM's own.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	url := fs.String("url", "http://127.0.0.1:8080", "Warden's base `URL` (the model API is at /v1, the CRM at /mcp/crm)")
	server := fs.String("server", "crm", "the MCP server's `name` in Warden's config")
	model := fs.String("model", "gpt-4o-mini", "the `model` to ask")
	prompt := fs.String("prompt", "Look up customer C-1042 and set their email as the contact on ticket T-7.", "the user's `request`")
	maxTurns := fs.Int("max-turns", 8, "give up after this many model calls")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	key := getenv("WARDEN_API_KEY")
	if key == "" {
		fmt.Fprintln(stderr, "agent: WARDEN_API_KEY is not set")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := runAgent(ctx, stdout, agentConfig{url: strings.TrimSuffix(*url, "/"), server: *server, key: key,
		model: *model, prompt: *prompt, maxTurns: *maxTurns}); err != nil {
		fmt.Fprintln(stderr, "agent:", err)
		return 1
	}
	return 0
}

type agentConfig struct {
	url, server, key, model, prompt string
	maxTurns                        int
}

// bearer adds the Warden API key to every MCP request.
type bearer struct {
	key  string
	next http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return b.next.RoundTrip(r)
}

func runAgent(ctx context.Context, out io.Writer, cfg agentConfig) error {
	// The CRM, through Warden.
	mc := mcp.NewClient(&mcp.Implementation{Name: "agent-example", Version: "1.0.0"}, nil)
	cs, err := mc.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: cfg.url + "/mcp/" + cfg.server, MaxRetries: -1,
		HTTPClient: &http.Client{Transport: bearer{cfg.key, http.DefaultTransport}}}, nil)
	if err != nil {
		return fmt.Errorf("connect to /mcp/%s: %w", cfg.server, err)
	}
	defer cs.Close()
	var tools []openai.ChatCompletionToolUnionParam
	var names []string
	for t, err := range cs.Tools(ctx, nil) {
		if err != nil {
			return fmt.Errorf("tools/list: %w", err)
		}
		params, err := schemaParams(t.InputSchema)
		if err != nil {
			return fmt.Errorf("tool %s: input schema: %w", t.Name, err)
		}
		tools = append(tools, openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name: t.Name, Description: openai.String(t.Description), Parameters: params}))
		names = append(names, t.Name)
	}
	if len(tools) == 0 {
		return errors.New("Warden shows this key no tools on /mcp/" + cfg.server)
	}
	fmt.Fprintf(out, "agent: tools on /mcp/%s: %s\n", cfg.server, strings.Join(names, ", "))

	// The model, through Warden.
	oc := openai.NewClient(option.WithBaseURL(cfg.url+"/v1/"), option.WithAPIKey(cfg.key))
	params := openai.ChatCompletionNewParams{Model: cfg.model, Tools: tools,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(cfg.prompt)}}
	fmt.Fprintf(out, "user: %s\n", cfg.prompt)
	for turn := 1; turn <= cfg.maxTurns; turn++ {
		resp, err := oc.Chat.Completions.New(ctx, params)
		if err != nil {
			return fmt.Errorf("model call %d: %w", turn, err)
		}
		if len(resp.Choices) == 0 {
			return fmt.Errorf("model call %d: no choices", turn)
		}
		msg := resp.Choices[0].Message
		if len(msg.ToolCalls) == 0 {
			fmt.Fprintf(out, "final answer: %s\n", msg.Content)
			return nil
		}
		params.Messages = append(params.Messages, msg.ToParam())
		for _, tc := range msg.ToolCalls {
			fmt.Fprintf(out, "model → tool call: %s %s\n", tc.Function.Name, tc.Function.Arguments)
			var args map[string]any
			if err := json.Unmarshal([]byte(tc.Function.Arguments), &args); err != nil {
				return fmt.Errorf("tool call %s: arguments are not a JSON object", tc.Function.Name)
			}
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tc.Function.Name, Arguments: args})
			if err != nil {
				return fmt.Errorf("tools/call %s: %w", tc.Function.Name, err)
			}
			text := resultText(res)
			fmt.Fprintf(out, "tool result → model: %s %s\n", tc.Function.Name, text)
			params.Messages = append(params.Messages, openai.ToolMessage(text, tc.ID))
		}
	}
	return fmt.Errorf("no answer after %d model calls", cfg.maxTurns)
}

// schemaParams turns an MCP tool's input schema into OpenAI function
// parameters (both are JSON Schema objects).
func schemaParams(schema any) (shared.FunctionParameters, error) {
	b, err := json.Marshal(schema)
	if err != nil {
		return nil, err
	}
	var p shared.FunctionParameters
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, err
	}
	return p, nil
}

// resultText is a tool result's text as the model gets it: its text
// content, or "error: …" for a result marked as an error.
func resultText(r *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	if r.IsError {
		return "error: " + b.String()
	}
	return b.String()
}
