package report

import "strings"

// Glob reports whether name matches pattern, where * stands for any run
// of characters (slashes too: principals may be SPIFFE IDs) and ? for
// one character; everything else matches itself. A pattern without
// either is an exact name.
func Glob(pattern, name string) bool {
	// The classic two-pointer match: on a mismatch, retry from the
	// last star one character further. O(len(pattern)·len(name)) at
	// worst, on names and patterns of config size.
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == name[n]):
			p++
			n++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// matchesAny reports whether name matches one of patterns; an empty
// list matches every name.
func matchesAny(patterns []string, name string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if Glob(p, name) {
			return true
		}
	}
	return false
}

// Matches reports whether a request of principal in tenant to model
// falls under p: every list p sets must match (an unset list matches
// anything).
func (p *Purpose) Matches(principal, tenant, model string) bool {
	return matchesAny(p.Principals, principal) && matchesAny(p.Tenants, tenant) && matchesAny(p.Models, model)
}

// CatchAll reports whether p matches every request (no list set).
func (p *Purpose) CatchAll() bool {
	return len(p.Principals) == 0 && len(p.Tenants) == 0 && len(p.Models) == 0
}

// purposeOf returns the index of the first purpose matching, or -1.
func purposeOf(ps []Purpose, principal, tenant, model string) int {
	for i := range ps {
		if ps[i].Matches(principal, tenant, model) {
			return i
		}
	}
	return -1
}

// mcpModel is the model name MCP tool calls match purposes' models as.
func mcpModel(server string) string { return "mcp:" + server }

// isMCPModel reports whether a model name stands for an MCP server.
func isMCPModel(m string) bool { return strings.HasPrefix(m, "mcp:") }
