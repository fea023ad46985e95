package detect

// idRecognizers returns the recognizers for network identifiers (IP and
// MAC addresses), crypto wallets, national, travel and health identifiers
// (UK_NINO, US_PASSPORT, US_DRIVER_LICENSE, MEDICAL_RECORD_NUMBER), bank
// account numbers and SWIFT/BIC codes.
func idRecognizers() []Recognizer {
	return []Recognizer{
		ipRecognizer{},
		macRecognizer{},
		newCryptoRecognizer(),
		ninoRecognizer{},
		newSWIFTRecognizer(),
		passportRecognizer(),
		driverLicenseRecognizer(),
		medicalRecordRecognizer(),
		bankNumberRecognizer(),
	}
}

// idHit is a candidate found by one of these recognizers, before context.
type idHit struct {
	typ, rec   string
	cat        Category
	start, end int
	base       float64
	// boost is added when one of words is near the span; when strong > 0
	// only the first strong words give boost and the others weakBoost.
	// A structural match (a checksummed wallet, a valid IPv4) has no
	// boost: its score does not depend on the words around it.
	boost, weakBoost float64
	words            []string
	strong           int
}

// addID scores h and reports it. Scores never depend on the engine's
// settings (so --explain shows the scores policy sees), but a hit that
// cannot reach its type's threshold even with its boost is dropped here,
// before the context search, rather than in Engine.finish, and when only
// a strong word could lift a hit past the threshold only those are
// searched for. The findings are the same as reporting every hit.
func addID(s *Scan, h idHit) {
	th, ok := s.e.thresholds[h.typ]
	if !ok {
		th = s.e.minScore
	}
	if h.base+h.boost < th {
		return
	}
	ctx := ""
	if h.boost > 0 {
		words := h.words
		if h.strong > 0 && h.base+h.weakBoost < th {
			words = words[:h.strong] // a weak word would not lift it enough
		}
		ctx = s.Context(h.start, h.end, words)
	}
	boost := h.boost
	if h.strong > 0 && ctx != "" {
		boost = h.weakBoost
		for _, w := range h.words[:h.strong] {
			if w == ctx {
				boost = h.boost
			}
		}
	}
	score := boosted(h.base, boost, ctx)
	if score < th {
		return
	}
	s.Add(Finding{Type: h.typ, Category: h.cat, Start: h.start, End: h.end, Score: score,
		Recognizer: h.rec, Context: s.ctxList(ctx)})
}
