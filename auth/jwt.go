package auth

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// peekIssuer reads the iss claim of a compact JWS without verifying it,
// only to choose which verifier gets the token. ok is false for
// anything that is not three base64url segments with a JSON payload
// carrying a string iss.
func peekIssuer(token string) (iss string, ok bool) {
	if len(token) > maxCredentialLen || strings.Count(token, ".") != 2 {
		return "", false
	}
	_, rest, _ := strings.Cut(token, ".")
	payload, _, _ := strings.Cut(rest, ".")
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return "", false
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(b, &c) != nil || c.Iss == "" {
		return "", false
	}
	return c.Iss, true
}
