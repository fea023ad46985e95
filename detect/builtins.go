package detect

// Builtins returns a fresh set of every built-in recognizer.
func Builtins() []Recognizer {
	var rs []Recognizer
	rs = append(rs, coreRecognizers()...)
	rs = append(rs, secretRecognizers()...)
	rs = append(rs, nameRecognizers()...)
	rs = append(rs, idRecognizers()...)
	rs = append(rs, intlRecognizers()...)
	return rs
}
