package console

import (
	"errors"
	"net/http"
	"time"

	"github.com/wardenhq/warden/auth"
)

// keyJSON is an API key as the keys page lists it (never its secret).
type keyJSON struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Tenant    string   `json:"tenant"`
	Models    []string `json:"models"`
	Roles     []string `json:"roles"`
	State     string   `json:"state"`
	CreatedAt string   `json:"created_at"`
	ExpiresAt *string  `json:"expires_at"`
	RevokedAt *string  `json:"revoked_at"`
}

func rfc3339(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// keys lists the API keys and the KEK versions.
func (c *Console) keys(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	list, err := c.d.APIKeys.List(ctx)
	if err != nil {
		c.fail(w, r, "listing the API keys", err)
		return
	}
	now := c.d.Now()
	out := struct {
		APIKeys []keyJSON `json:"api_keys"`
		KEK     struct {
			Current  uint32 `json:"current"`
			Versions []struct {
				Version   uint32  `json:"version"`
				CreatedAt string  `json:"created_at"`
				State     string  `json:"state"`
				RetiredAt *string `json:"retired_at"`
			} `json:"versions"`
		} `json:"kek"`
	}{APIKeys: []keyJSON{}}
	for _, k := range list {
		state := "active"
		switch {
		case !k.RevokedAt.IsZero():
			state = "revoked"
		case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
			state = "expired"
		}
		out.APIKeys = append(out.APIKeys, keyJSON{ID: k.ID, Name: k.Name, Tenant: k.Tenant, Models: orEmpty(k.Models), Roles: orEmpty(k.Roles),
			State: state, CreatedAt: k.CreatedAt.UTC().Format(time.RFC3339), ExpiresAt: rfc3339(k.ExpiresAt), RevokedAt: rfc3339(k.RevokedAt)})
	}
	out.KEK.Versions = out.KEK.Versions[:0]
	if c.d.KEKs != nil {
		vs, err := c.d.KEKs.Versions(ctx)
		if err != nil {
			c.fail(w, r, "reading the keyring", err)
			return
		}
		for _, v := range vs {
			state := "active"
			switch {
			case !v.Retired.IsZero():
				state = "retired"
			case v.Current:
				state = "current"
				out.KEK.Current = v.Version
			}
			out.KEK.Versions = append(out.KEK.Versions, struct {
				Version   uint32  `json:"version"`
				CreatedAt string  `json:"created_at"`
				State     string  `json:"state"`
				RetiredAt *string `json:"retired_at"`
			}{v.Version, v.Created.UTC().Format(time.RFC3339), state, rfc3339(v.Retired)})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// createKey makes an API key and answers it, the only time it is shown.
func (c *Console) createKey(w http.ResponseWriter, r *http.Request) {
	if c.d.Admin == nil {
		writeError(w, http.StatusNotImplemented, "not_implemented", "this console cannot change keys")
		return
	}
	var in struct {
		Name      string   `json:"name"`
		Tenant    string   `json:"tenant"`
		Models    []string `json:"models"`
		Roles     []string `json:"roles"`
		ExpiresIn string   `json:"expires_in"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	spec := auth.KeySpec{Name: in.Name, Tenant: in.Tenant, Models: in.Models, Roles: in.Roles}
	if in.ExpiresIn != "" {
		d, err := time.ParseDuration(in.ExpiresIn)
		if err != nil || d <= 0 {
			writeError(w, http.StatusBadRequest, "bad_request", "expires_in: want a positive duration like 720h")
			return
		}
		spec.Expires = c.d.Now().Add(d)
	}
	key, info, err := c.d.Admin.CreateAPIKey(r.Context(), sessionOf(r).Principal, spec)
	if errors.Is(err, auth.ErrInvalidSpec) {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	if err != nil {
		c.fail(w, r, "creating the API key", err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		ID     string `json:"id"`
		Key    string `json:"key"`
		Name   string `json:"name"`
		Tenant string `json:"tenant"`
	}{info.ID, key, info.Name, info.Tenant})
}

// revokeKey revokes an API key by its id.
func (c *Console) revokeKey(w http.ResponseWriter, r *http.Request) {
	if c.d.Admin == nil {
		writeError(w, http.StatusNotImplemented, "not_implemented", "this console cannot change keys")
		return
	}
	id := r.PathValue("id")
	err := c.d.Admin.RevokeAPIKey(r.Context(), sessionOf(r).Principal, id)
	if errors.Is(err, auth.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no active key has that id")
		return
	}
	if err != nil {
		c.fail(w, r, "revoking the API key", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id, "state": "revoked"})
}

// rotateKEK adds a KEK version.
func (c *Console) rotateKEK(w http.ResponseWriter, r *http.Request) {
	if c.d.Admin == nil {
		writeError(w, http.StatusNotImplemented, "not_implemented", "this console cannot rotate keys")
		return
	}
	v, err := c.d.Admin.RotateKEK(r.Context(), sessionOf(r).Principal)
	if err != nil {
		c.fail(w, r, "rotating the KEK", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]uint32{"current": v})
}

// shred destroys a tenant's keys once the tenant's name is typed again.
func (c *Console) shred(w http.ResponseWriter, r *http.Request) {
	if c.d.Admin == nil {
		writeError(w, http.StatusNotImplemented, "not_implemented", "this console cannot shred")
		return
	}
	tenant := r.PathValue("tenant")
	var in struct {
		Confirm string `json:"confirm"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if in.Confirm != tenant || tenant == "" {
		writeError(w, http.StatusBadRequest, "confirm", "type the tenant's name in confirm to shred it")
		return
	}
	ok, err := c.d.Admin.ShredTenant(r.Context(), sessionOf(r).Principal, tenant)
	if err != nil {
		c.fail(w, r, "shredding the tenant", err)
		return
	}
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "the vault has no such tenant")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tenant": tenant, "shredded": true})
}
