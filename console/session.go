package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/auth"
)

// Sessions
//
// Sign-in verifies a gateway API key with the gateway's own key store
// and, when the key holds a role of Config.Roles, creates a session: 32
// random bytes, base64url in the cookie warden_console (HttpOnly,
// SameSite=Strict, Path=/console, Secure over TLS), SHA-256 of them in
// console_sessions with the principal, its tenant, the console roles it
// holds and the key's public id. Each API call looks the session up,
// checks its expiry and that its key is still active (a revoked key ends
// its sessions within auth.api_keys.cache_ttl, at once when revoked
// here), and reads its roles from the row.
//
// Requests that change anything must also carry X-Warden-Console: 1,
// which a cross-site form or image cannot send, and, when they have a
// body, Content-Type: application/json, which a cross-site request
// cannot send without a CORS preflight the console never answers; an
// Origin header, when present, must name the console's own host.

// CookieName is the session cookie.
const CookieName = "warden_console"

// CSRFHeader must be "1" on every request that changes something.
const CSRFHeader = "X-Warden-Console"

// maxBody bounds a JSON request body.
const maxBody = 1 << 20

// session is a signed-in user.
type session struct {
	Principal string   `json:"principal"`
	Tenant    string   `json:"tenant"`
	Roles     []string `json:"roles"`
	keyID     string
	sha       []byte
}

func (s *session) admin() bool { return slices.Contains(s.Roles, RoleAdmin) }

type ctxKey struct{}

// sessionOf is the session of a request that passed reader, poster or
// admin.
func sessionOf(r *http.Request) *session { s, _ := r.Context().Value(ctxKey{}).(*session); return s }

func tokenSHA(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// lookup returns the session of r's cookie, nil when there is none or
// it ended; an error when the store could not say.
func (c *Console) lookup(r *http.Request) (*session, error) {
	ck, err := r.Cookie(CookieName)
	if err != nil || len(ck.Value) != 43 {
		return nil, nil
	}
	sha := tokenSHA(ck.Value)
	ctx, end := c.d.Store.Bound(r.Context())
	var s session
	var roles string
	var expires int64
	err = c.d.Store.Read().QueryRowContext(ctx, "SELECT principal, tenant, roles, key_id, expires_at FROM console_sessions WHERE token_sha = $1", sha).
		Scan(&s.Principal, &s.Tenant, &roles, &s.keyID, &expires)
	end(&err)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !c.d.Now().Before(time.Unix(expires, 0)) {
		return nil, nil
	}
	ok, err := c.d.APIKeys.Active(r.Context(), s.keyID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, nil
	}
	s.Roles = strings.Split(roles, ",")
	s.sha = sha
	return &s, nil
}

// authed runs h for a signed-in user: 401 without a session; with
// change, also the CSRF checks, and with adminOnly, role admin (403).
func (c *Console) authed(change, adminOnly bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if change && !c.csrfOK(w, r) {
			return
		}
		s, err := c.lookup(r)
		if err != nil {
			c.fail(w, r, "checking the session", err)
			return
		}
		if s == nil {
			writeError(w, http.StatusUnauthorized, "unauthorized", "sign in with an API key")
			return
		}
		if adminOnly && !s.admin() {
			writeError(w, http.StatusForbidden, "forbidden", "this needs the admin role")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, s)))
	}
}

// reader is a GET for any signed-in user.
func (c *Console) reader(h http.HandlerFunc) http.HandlerFunc { return c.authed(false, false, h) }

// poster is a POST that changes nothing (policy test), for any
// signed-in user, with the CSRF checks.
func (c *Console) poster(h http.HandlerFunc) http.HandlerFunc { return c.authed(true, false, h) }

// admin is a change, for role admin only.
func (c *Console) admin(h http.HandlerFunc) http.HandlerFunc { return c.authed(true, true, h) }

// csrfOK checks the CSRF header, the content type of a body and the
// Origin; it answers 403 (or 415) itself when they fail.
func (c *Console) csrfOK(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get(CSRFHeader) != "1" {
		writeError(w, http.StatusForbidden, "csrf", "requests that change something need the header "+CSRFHeader+": 1")
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			writeError(w, http.StatusForbidden, "csrf", "cross-origin request refused")
			return false
		}
	}
	if r.ContentLength != 0 || r.Header.Get("Content-Type") != "" {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "content_type", "send the body as application/json")
			return false
		}
	}
	return true
}

// readJSON decodes r's body (at most maxBody) into v, refusing unknown
// fields; it answers 400 itself and returns false on failure.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := "the body is not the JSON object this endpoint takes"
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			msg = "field " + ute.Field + " has the wrong type"
		}
		writeError(w, http.StatusBadRequest, "bad_request", msg)
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "bad_request", "one JSON object expected")
		return false
	}
	return true
}

// whoami answers the session's principal, tenant and roles.
func (c *Console) whoami(w http.ResponseWriter, r *http.Request) {
	s, err := c.lookup(r)
	if err != nil {
		c.fail(w, r, "checking the session", err)
		return
	}
	if s == nil {
		writeError(w, http.StatusUnauthorized, "unauthorized", "not signed in")
		return
	}
	writeJSON(w, http.StatusOK, s)
}

// signIn exchanges an API key for a session.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	if !c.csrfOK(w, r) {
		return
	}
	var in struct {
		APIKey string `json:"api_key"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	p, err := c.d.APIKeys.Verify(r.Context(), in.APIKey)
	if errors.Is(err, auth.ErrInvalidKey) {
		writeError(w, http.StatusUnauthorized, "invalid_api_key", "the API key is not valid")
		return
	}
	if err != nil {
		c.fail(w, r, "checking the API key", err)
		return
	}
	var roles []string
	for _, role := range p.Roles {
		if slices.Contains(c.cfg.Roles, role) && !slices.Contains(roles, role) {
			roles = append(roles, role)
		}
	}
	if len(roles) == 0 {
		writeError(w, http.StatusForbidden, "no_console_role", "the key holds none of the roles console.roles lets in")
		return
	}
	now := c.d.Now()
	expires := now.Add(c.cfg.SessionTTL)
	if !p.Expires.IsZero() && p.Expires.Before(expires) {
		expires = p.Expires
	}
	var raw [32]byte
	rand.Read(raw[:])
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	ctx, end := c.d.Store.Bound(r.Context())
	err = c.d.Store.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM console_sessions WHERE expires_at < $1", now.Unix()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO console_sessions (token_sha, principal, tenant, roles, key_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
			tokenSHA(token), p.Name, p.Tenant, strings.Join(roles, ","), p.KeyID, now.Unix(), expires.Unix())
		return err
	})
	end(&err)
	if err != nil {
		c.fail(w, r, "creating the session", err)
		return
	}
	if _, err := c.d.Log.RecordAdmin(r.Context(), audit.AdminEvent{Action: "console.signin", Actor: p.Name, Target: p.KeyID, Tenant: p.Tenant,
		Details: map[string]string{"roles": strings.Join(roles, ",")}}); err != nil {
		c.endSession(r.Context(), tokenSHA(token))
		c.fail(w, r, "recording the sign-in in the audit log", err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: token, Path: strings.TrimSuffix(Prefix, "/"), Expires: expires,
		MaxAge: int(time.Until(expires).Seconds()), HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	writeJSON(w, http.StatusOK, &session{Principal: p.Name, Tenant: p.Tenant, Roles: roles})
}

// signOut ends the session.
func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	if !c.csrfOK(w, r) {
		return
	}
	if ck, err := r.Cookie(CookieName); err == nil {
		if err := c.endSession(r.Context(), tokenSHA(ck.Value)); err != nil {
			c.fail(w, r, "ending the session", err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: strings.TrimSuffix(Prefix, "/"), MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	writeJSON(w, http.StatusOK, struct{}{})
}

func (c *Console) endSession(ctx context.Context, sha []byte) (err error) {
	ctx, end := c.d.Store.Bound(ctx)
	defer end(&err)
	return c.d.Store.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM console_sessions WHERE token_sha = $1", sha)
		return err
	})
}
