package standin

import (
	"math"
	"sort"
	"strings"
)

// tool is a function the request offers the model.
type tool struct {
	name   string
	schema map[string]any // JSON schema of the arguments; nil when none was given
}

// call is one tool call the stand-in makes.
type call struct {
	name string
	args string // JSON text
}

// requestTools returns the function tools a request offers, in order,
// narrowed by its tool_choice: none at all for "none", only the named
// tool when one is forced. Chat Completions nests the definition under
// "function"; Responses and Anthropic put name and schema on the tool
// ("parameters", "input_schema"). Built-in tools (web search, code
// interpreter …) are not functions and are left out.
func requestTools(req map[string]any) []tool {
	raw, _ := req["tools"].([]any)
	var out []tool
	for _, r := range raw {
		m, _ := r.(map[string]any)
		if m == nil {
			continue
		}
		typ, _ := m["type"].(string)
		var t tool
		switch {
		case typ == "function" && m["function"] != nil: // Chat Completions
			f, _ := m["function"].(map[string]any)
			t.name, _ = f["name"].(string)
			t.schema, _ = f["parameters"].(map[string]any)
		case typ == "function": // Responses
			t.name, _ = m["name"].(string)
			t.schema, _ = m["parameters"].(map[string]any)
		case typ == "" || typ == "custom": // Anthropic client tools
			if _, ok := m["input_schema"]; !ok && typ == "" {
				continue
			}
			t.name, _ = m["name"].(string)
			t.schema, _ = m["input_schema"].(map[string]any)
		default:
			continue
		}
		if t.name != "" {
			out = append(out, t)
		}
	}
	switch c := req["tool_choice"].(type) {
	case string:
		if c == "none" {
			return nil
		}
	case map[string]any:
		typ, _ := c["type"].(string)
		if typ == "none" {
			return nil
		}
		name, _ := c["name"].(string) // Responses {"type":"function","name"}, Anthropic {"type":"tool","name"}
		if f, ok := c["function"].(map[string]any); ok {
			name, _ = f["name"].(string) // Chat {"type":"function","function":{"name"}}
		}
		if name != "" {
			for _, t := range out {
				if t.name == name {
					return []tool{t}
				}
			}
		}
	}
	return out
}

// plannedCalls returns the calls to make: n of them cycling through tools
// in order, or one per tool when n < 0.
func plannedCalls(tools []tool, n int, text string) []call {
	if len(tools) == 0 {
		return nil
	}
	if n < 0 {
		n = len(tools)
	}
	calls := make([]call, n)
	for i := range calls {
		t := tools[i%len(tools)]
		calls[i] = call{name: t.name, args: string(mustMarshal(toolArguments(t.schema, text)))}
	}
	return calls
}

// toolArguments builds arguments that conform to a tool's JSON schema,
// so SDKs that validate arguments (the Vercel AI SDK, zod, pydantic)
// accept them. Every string is the echoed user text, so what the user
// wrote round-trips through tool arguments. A tool without a schema gets
// {"text": …}.
func toolArguments(schema map[string]any, text string) any {
	if schema == nil {
		return obj{{"text", text}}
	}
	v := exampleValue(schema, schema, text, 0)
	if _, ok := v.(obj); !ok {
		return obj{} // arguments are always an object
	}
	return v
}

// maxSchemaDepth bounds the recursion through nested and recursive
// schemas.
const maxSchemaDepth = 16

// exampleValue returns one value of schema s: enum → its first value,
// const → the constant, string → text, number and integer → 1 (or the
// minimum when that is larger), boolean → true, null → null, array → one
// item, object → its required properties (every property when none is
// required), anyOf/oneOf/allOf → the first branch, "$ref" to "#/$defs/…"
// or "#/definitions/…" → the definition.
func exampleValue(s, root map[string]any, text string, depth int) any {
	if depth > maxSchemaDepth {
		return nil
	}
	if ref, ok := s["$ref"].(string); ok {
		if d := resolveRef(root, ref); d != nil {
			return exampleValue(d, root, text, depth+1)
		}
		return text
	}
	if e, ok := s["enum"].([]any); ok && len(e) > 0 {
		return e[0]
	}
	if c, ok := s["const"]; ok {
		return c
	}
	for _, k := range []string{"anyOf", "oneOf", "allOf"} {
		if bs, ok := s[k].([]any); ok && len(bs) > 0 {
			if b, ok := bs[0].(map[string]any); ok {
				return exampleValue(b, root, text, depth+1)
			}
		}
	}
	switch schemaType(s) {
	case "string":
		return text
	case "integer":
		if m, ok := s["minimum"].(float64); ok && m > 1 {
			return int64(math.Ceil(m))
		}
		return 1
	case "number":
		if m, ok := s["minimum"].(float64); ok && m > 1 {
			return m
		}
		return 1
	case "boolean":
		return true
	case "null":
		return nil
	case "array":
		item := map[string]any{}
		if it, ok := s["items"].(map[string]any); ok {
			item = it
		}
		return []any{exampleValue(item, root, text, depth+1)}
	case "object":
		props, _ := s["properties"].(map[string]any)
		var names []string
		if req, ok := s["required"].([]any); ok && len(req) > 0 {
			for _, r := range req {
				if n, ok := r.(string); ok {
					names = append(names, n)
				}
			}
		} else {
			for n := range props {
				names = append(names, n)
			}
			sort.Strings(names)
		}
		o := obj{}
		for _, n := range names {
			p, _ := props[n].(map[string]any)
			if p == nil {
				p = map[string]any{"type": "string"}
			}
			o = append(o, kv{n, exampleValue(p, root, text, depth+1)})
		}
		return o
	}
	return text
}

// schemaType returns the schema's type: the first non-null one of a type
// list; "object" for a schema with properties and no type; "" else.
func schemaType(s map[string]any) string {
	switch t := s["type"].(type) {
	case string:
		return t
	case []any:
		for _, x := range t {
			if n, ok := x.(string); ok && n != "null" {
				return n
			}
		}
		return "null"
	}
	if _, ok := s["properties"]; ok {
		return "object"
	}
	return ""
}

func resolveRef(root map[string]any, ref string) map[string]any {
	for _, p := range []string{"#/$defs/", "#/definitions/"} {
		if name, ok := strings.CutPrefix(ref, p); ok {
			defs, _ := root[strings.TrimSuffix(strings.TrimPrefix(p, "#/"), "/")].(map[string]any)
			d, _ := defs[name].(map[string]any)
			return d
		}
	}
	if ref == "#" {
		return root
	}
	return nil
}

// toolResults returns the text of the tool results that end the
// conversation, joined by newlines, and whether it ends with any: Chat
// Completions "tool" messages, Responses "function_call_output" items,
// an Anthropic user message of "tool_result" blocks.
func toolResults(req map[string]any) (string, bool) {
	var parts []string
	if msgs, ok := req["messages"].([]any); ok && len(msgs) > 0 {
		last, _ := msgs[len(msgs)-1].(map[string]any)
		switch last["role"] {
		case "tool", "function": // Chat Completions
			i := len(msgs) - 1
			for i > 0 {
				if m, _ := msgs[i-1].(map[string]any); m["role"] == "tool" || m["role"] == "function" {
					i--
					continue
				}
				break
			}
			for _, m := range msgs[i:] {
				parts = append(parts, contentText(m.(map[string]any)["content"]))
			}
			return strings.Join(parts, "\n"), true
		case "user": // Anthropic
			blocks, _ := last["content"].([]any)
			found := false
			for _, b := range blocks {
				bm, _ := b.(map[string]any)
				if bm["type"] == "tool_result" {
					found = true
					parts = append(parts, contentText(bm["content"]))
				}
			}
			return strings.Join(parts, "\n"), found
		}
		return "", false
	}
	in, _ := req["input"].([]any) // Responses
	i := len(in)
	for i > 0 {
		if m, _ := in[i-1].(map[string]any); m["type"] == "function_call_output" {
			i--
			continue
		}
		break
	}
	if i == len(in) {
		return "", false
	}
	for _, it := range in[i:] {
		parts = append(parts, contentText(it.(map[string]any)["output"]))
	}
	return strings.Join(parts, "\n"), true
}
