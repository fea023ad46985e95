package gateway

// usage is the token usage an upstream reported.
type usage struct{ total, input, output, prompt, completion int }

// tokens is the total, or the sum of the parts when no total is given.
func (u usage) tokens() int {
	if u.total != 0 {
		return u.total
	}
	return u.input + u.output + u.prompt + u.completion
}

// set records the usage number at a usage object's key.
func (u *usage) set(key string, n int) {
	switch key {
	case "total_tokens":
		u.total = n
	case "input_tokens":
		u.input = n
	case "output_tokens":
		u.output = n
	case "prompt_tokens":
		u.prompt = n
	case "completion_tokens":
		u.completion = n
	}
}

// merge keeps the non-zero counts of v: stream events report usage in
// parts (input at the start, output at the end).
func (u *usage) merge(v usage) {
	keep := func(dst *int, src int) {
		if src != 0 {
			*dst = src
		}
	}
	keep(&u.total, v.total)
	keep(&u.input, v.input)
	keep(&u.output, v.output)
	keep(&u.prompt, v.prompt)
	keep(&u.completion, v.completion)
}

func (u usage) inputTokens() int {
	if u.input != 0 {
		return u.input
	}
	return u.prompt
}

func (u usage) outputTokens() int {
	if u.output != 0 {
		return u.output
	}
	return u.completion
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
