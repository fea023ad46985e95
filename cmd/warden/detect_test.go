package main

import (
	"math"
	"math/rand"
	"strconv"
	"testing"
)

// TestAppendScoreMatchesStrconv pins appendScore's fast path to
// strconv.AppendFloat(…, 'f', 2, 64), including values at rounding ties.
func TestAppendScoreMatchesStrconv(t *testing.T) {
	vals := []float64{0, math.Copysign(0, -1), 1, 0.5, 0.125, 0.375, 0.005, 0.015, 0.995, 0.9999, 1.0000001, -0.3, 2.5, math.NaN(), math.Inf(1)}
	for k := 0; k <= 100; k++ {
		v := float64(k) / 100
		vals = append(vals, v, math.Nextafter(v, 0), math.Nextafter(v, 2), v+0.005, v-0.005, v+0.0049999, v+0.0050001)
	}
	// Sums of the base scores and boosts the recognizers use.
	for _, a := range []float64{0.2, 0.3, 0.35, 0.4, 0.45, 0.55, 0.6, 0.65, 0.8, 0.85} {
		for _, b := range []float64{0, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5} {
			vals = append(vals, a+b, a+b+0.15, a-b)
		}
	}
	r := rand.New(rand.NewSource(1))
	for range 100000 {
		vals = append(vals, r.Float64())
	}
	for _, v := range vals {
		got := string(appendScore(nil, v))
		want := strconv.FormatFloat(v, 'f', 2, 64)
		if got != want {
			t.Errorf("appendScore(%v) = %s, want %s", v, got, want)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", `""`},
		{"PHONE_NUMBER", `"PHONE_NUMBER"`},
		{`say "hi"`, `"say \"hi\""`},
		{`a\b`, `"a\\b"`},
		{"tab\there\nnl\rcr", `"tab\there\nnl\rcr"`},
		{"\x00\x1f\x7f", `"\u0000\u001f\u007f"`},
		{"Müller", `"Müller"`},
		{"bad \xff utf8", `"bad \ufffd utf8"`},
	} {
		if got := string(appendJSONString(nil, c.in)); got != c.want {
			t.Errorf("appendJSONString(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}
