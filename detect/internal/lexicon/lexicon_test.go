package lexicon

import (
	"testing"
)

func TestFold(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Smith", "smith"},
		{"MÜLLER", "muller"},
		{"Łukasz", "lukasz"},
		{"José", "jose"},
		{"Zoë", "zoe"},
		{"Dvořák", "dvorak"},
		{"O’Connor", "o'connor"},
		{"Straße", "strasse"},
		{"Ørsted", "orsted"},
		{"Ærø", "aero"},
		{"Ивanov", "ивanov"},
	} {
		got, ok := Fold(nil, tc.in)
		if !ok || string(got) != tc.want {
			t.Errorf("Fold(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	if _, ok := Fold(nil, "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"); ok {
		t.Error("Fold accepted a word longer than MaxWord")
	}
}

func TestLookup(t *testing.T) {
	tab := Default()
	for _, tc := range []struct {
		word       string
		has, hasnt Class
	}{
		{"John", First, Word | Stop},
		{"JOHN", First, Stop},
		{"Smith", Surname, Stop},
		{"Müller", Surname, 0},
		{"Mueller", Surname, 0},
		{"O'Connor", Surname, 0},
		{"O’Connor", Surname, 0},
		{"José", First, 0},
		{"Zoë", First, 0},
		{"Write", Word, First | Surname},
		{"Monday", Stop, First},
		{"May", Month | First | Stop, 0},
		{"Mr", Title, 0},
		{"Street", Street | Org, 0},
		{"Inc", Org, 0},
		{"Lake", PlacePrefix | Place, 0},
		{"Texas", Place, 0},
		{"van", Particle, 0},
		{"III", Suffix, 0},
		{"patient", Cue, 0},
		{"says", PostCue, 0},
		{"zzqxv", 0, ^Class(0)},
	} {
		got := tab.Lookup(tc.word)
		if got&tc.has != tc.has || got&tc.hasnt != 0 {
			t.Errorf("Lookup(%q) = %b; want bits %b set and %b clear", tc.word, got, tc.has, tc.hasnt)
		}
	}
	if tab.Len() < 50000 {
		t.Errorf("table has %d words; the embedded lists have more", tab.Len())
	}
}

func BenchmarkLookup(b *testing.B) {
	tab := Default()
	ws := []string{"John", "Reichert", "Write", "The", "Kubernetes", "Müller", "Hodkiewiczfurt", "Patient"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tab.Lookup(ws[i%len(ws)])
	}
}

func BenchmarkBuild(b *testing.B) {
	for b.Loop() {
		build()
	}
}
