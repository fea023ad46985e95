// Package toolpin pins MCP tool definitions, so a server cannot change a
// tool after it was approved ("rug pull"), and reads a server's tool
// list.
//
// On the gateway's MCP path, every tools/list answer of an upstream MCP
// server is checked tool by tool: [Hash] names a definition by the
// SHA-256 of its canonical JSON, [Store] holds the hash an operator
// approved for each (server, tool), and a tool whose hash differs from
// its pin is withheld and its calls refused. [Inspector] looks for the
// hidden instructions of "tool poisoning" (text the model reads and the
// user does not see) before anyone approves a definition, and [Fetch]
// reads a server's whole tool list over Streamable HTTP for the
// operator's pinning commands.
package toolpin

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// maxDepth bounds the nesting of a definition [Hash] and
// [Inspector.Inspect] accept. JSON Schemas of real tools nest a few
// dozen levels at most.
const maxDepth = 512

// Hash returns "sha256:<hex>" of the canonical form of one MCP tool
// definition: the JSON object a server returns in tools/list
// result.tools[i].
//
// The canonical form is the definition without its top-level "_meta"
// member (metadata for clients, not read by the model), re-encoded with
// every object's keys in sorted order, no insignificant whitespace,
// numbers as written (json.Decoder.UseNumber: 1 and 1.0 differ) and no
// HTML escaping. So key order and whitespace never change the hash; any
// change of name, title, description, inputSchema, outputSchema,
// annotations or any other member does.
//
// Hash refuses what two JSON readers could read differently, since the
// hash must name exactly what the model is shown: a definition that is
// not a JSON object, that holds invalid UTF-8, that repeats a key within
// an object (readers differ on which copy wins), or that nests deeper
// than 512 levels.
func Hash(def json.RawMessage) (string, error) {
	v, err := parse(def)
	if err != nil {
		return "", err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return "", errors.New("toolpin: tool definition is not a JSON object")
	}
	delete(obj, "_meta")
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		return "", fmt.Errorf("toolpin: tool definition: %w", err)
	}
	sum := sha256.Sum256(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// validHash reports whether h is a [Hash] result.
func validHash(h string) bool {
	hexPart, ok := strings.CutPrefix(h, "sha256:")
	if !ok || len(hexPart) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(hexPart); i++ {
		c := hexPart[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// parse reads one JSON value (objects as map[string]any, numbers as
// json.Number) and nothing after it, refusing invalid UTF-8, duplicate
// keys and nesting deeper than maxDepth. Its errors never quote the
// input.
func parse(data []byte) (any, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("toolpin: tool definition is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := parseValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("toolpin: tool definition: data after the JSON value")
	}
	return v, nil
}

var errSyntax = errors.New("toolpin: tool definition is not valid JSON")

func parseValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		// Decoder errors quote the offending bytes; name only the kind.
		return nil, errSyntax
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil // string, json.Number, bool or nil
	}
	if depth >= maxDepth {
		return nil, fmt.Errorf("toolpin: tool definition nests deeper than %d levels", maxDepth)
	}
	switch d {
	case '{':
		obj := map[string]any{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, errSyntax
			}
			k, ok := kt.(string)
			if !ok {
				return nil, errSyntax
			}
			if _, dup := obj[k]; dup {
				return nil, errors.New("toolpin: tool definition repeats a key within an object")
			}
			v, err := parseValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			obj[k] = v
		}
		if _, err := dec.Token(); err != nil {
			return nil, errSyntax
		}
		return obj, nil
	case '[':
		arr := []any{}
		for dec.More() {
			v, err := parseValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, errSyntax
		}
		return arr, nil
	}
	return nil, errSyntax
}
