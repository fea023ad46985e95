package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// maxTokenRequest bounds the body of a token request.
const maxTokenRequest = 4096

// tokenRequest is the optional JSON body of POST /v1/auth/token: a
// caller may ask for fewer models or a shorter life than its key has.
type tokenRequest struct {
	Models    []string `json:"models"`
	ExpiresIn int64    `json:"expires_in"` // seconds
}

// tokenResponse follows RFC 6749 §5.1.
type tokenResponse struct {
	AccessToken string   `json:"access_token"`
	TokenType   string   `json:"token_type"`
	ExpiresIn   int64    `json:"expires_in"`
	Models      []string `json:"models"`
}

// TokenHandler serves POST /v1/auth/token: the caller presents an API
// key (Authorization: Bearer or X-Api-Key) and gets a signed JWT. An
// optional JSON body {"models": [...], "expires_in": seconds} narrows
// the token. Errors follow RFC 6749 §5.2 and never echo the key.
func (is *Issuer) TokenHandler(apiKeys *APIKeys) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "use POST")
			return
		}
		cred, err := credential(r)
		if err != nil || !looksLikeAPIKey(cred) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="warden"`)
			oauthError(w, http.StatusUnauthorized, "invalid_client", "present an API key as Authorization: Bearer or X-Api-Key")
			return
		}
		p, err := apiKeys.Verify(r.Context(), cred)
		if errors.Is(err, ErrInvalidKey) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="warden", error="invalid_token"`)
			oauthError(w, http.StatusUnauthorized, "invalid_client", "invalid API key")
			return
		}
		if err != nil {
			oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "cannot check the API key now")
			return
		}
		var req tokenRequest
		body, err := io.ReadAll(io.LimitReader(r.Body, maxTokenRequest+1))
		switch {
		case err != nil:
			oauthError(w, http.StatusBadRequest, "invalid_request", "cannot read the request body")
			return
		case len(body) > maxTokenRequest:
			oauthError(w, http.StatusRequestEntityTooLarge, "invalid_request", fmt.Sprintf("body larger than %d bytes", maxTokenRequest))
			return
		case len(strings.TrimSpace(string(body))) > 0:
			dec := json.NewDecoder(strings.NewReader(string(body)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&req); err != nil {
				oauthError(w, http.StatusBadRequest, "invalid_request", `body: want {"models": [...], "expires_in": seconds}`)
				return
			}
		}
		if req.ExpiresIn < 0 {
			oauthError(w, http.StatusBadRequest, "invalid_request", "expires_in: must not be negative")
			return
		}
		for _, m := range req.Models {
			if !mayUse(p.Models, m) {
				oauthError(w, http.StatusForbidden, "invalid_scope", "models: the key may not use one of the requested models")
				return
			}
		}
		lifetime := time.Duration(min(req.ExpiresIn, int64(MaxTokenLifetime/time.Second))) * time.Second
		if !p.Expires.IsZero() && !p.Expires.After(is.now().Add(time.Second)) {
			oauthError(w, http.StatusUnauthorized, "invalid_client", "the API key expires within a second")
			return
		}
		token, exp, err := is.Mint(r.Context(), p, lifetime, req.Models)
		if err != nil {
			oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "cannot sign a token now")
			return
		}
		models := req.Models
		if models == nil {
			models = nonNil(p.Models)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(tokenResponse{AccessToken: token, TokenType: "Bearer",
			ExpiresIn: int64(exp.Sub(is.now()).Round(time.Second) / time.Second), Models: models})
	})
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// JWKSHandler serves GET /.well-known/jwks.json: the public keys of
// every signing key whose tokens may still be valid (RFC 7517). Clients
// should re-fetch it when they meet an unknown kid.
func (is *Issuer) JWKSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		set, err := is.JWKS(r.Context())
		if err != nil {
			http.Error(w, "signing keys unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "public, max-age=60")
		json.NewEncoder(w).Encode(set)
	})
}

func sortJWKs(ks []jose.JSONWebKey) {
	sort.Slice(ks, func(i, j int) bool { return ks[i].KeyID < ks[j].KeyID })
}
