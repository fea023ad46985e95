package detect

// coreRecognizers returns the built-in PII, FINANCIAL, HEALTH and NETWORK
// recognizers other than names.
func coreRecognizers() []Recognizer { return nil }

// numRun is a run of digit groups starting at a word start.
type numRun struct{}
