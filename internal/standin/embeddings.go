package standin

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"net/http"
	"strings"
)

// embeddings answers POST /embeddings with a tiny deterministic
// "embedding" of each input: a histogram of its bytes in 8 buckets (or
// "dimensions" buckets). With encoding_format "base64" each vector is
// base64 of its little-endian float32 values, as OpenAI sends it; else a
// list of numbers.
func (x *exchange) embeddings(req map[string]any) {
	var inputs []string
	switch in := req["input"].(type) {
	case string:
		inputs = []string{in}
	case []any:
		for _, v := range in {
			if t, ok := v.(string); ok {
				inputs = append(inputs, t)
			}
		}
	}
	dims := 8
	if d, ok := req["dimensions"].(float64); ok && d >= 1 && d <= 4096 {
		dims = int(d)
	}
	b64 := req["encoding_format"] == "base64"
	data := []any{}
	for i, t := range inputs {
		vec := make([]float32, dims)
		for j := 0; j < len(t); j++ {
			vec[int(t[j])%dims]++
		}
		var e any = vec
		if b64 {
			raw := make([]byte, 4*dims)
			for k, f := range vec {
				binary.LittleEndian.PutUint32(raw[4*k:], math.Float32bits(f))
			}
			e = base64.StdEncoding.EncodeToString(raw)
		}
		data = append(data, obj{{"object", "embedding"}, {"index", i}, {"embedding", e}})
	}
	n := tokens(strings.Join(inputs, " "))
	x.w.json(http.StatusOK, obj{{"object", "list"}, {"data", data}, {"model", x.model},
		{"usage", obj{{"prompt_tokens", n}, {"total_tokens", n}}}})
}
