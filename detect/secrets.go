package detect

// secretRecognizers returns the credential recognizers (category SECRET).
func secretRecognizers() []Recognizer { return nil }
