package console

import (
	"context"
	"net/http"
	"time"
)

// Alert is one alert the console lists: a finding rate that left its
// baseline, a new finding type for a principal, a leak, a refusal
// spike, a changed tool definition. Subject names who and what it is
// about; Value and Baseline are the observed and expected rates or
// counts. Nothing in it is a value from traffic.
type Alert struct {
	ID       string       `json:"id"`
	Time     time.Time    `json:"time"`
	Kind     string       `json:"kind"`
	Severity string       `json:"severity"`
	Subject  AlertSubject `json:"subject"`
	Message  string       `json:"message"`
	Value    float64      `json:"value"`
	Baseline float64      `json:"baseline"`
}

// AlertSubject is what an alert is about; fields that do not apply are
// empty.
type AlertSubject struct {
	Principal string `json:"principal"`
	Model     string `json:"model"`
	Type      string `json:"type"`
}

// AlertSource lists the alerts raised since a time, newest first, at
// most limit of them.
type AlertSource interface {
	Alerts(ctx context.Context, since time.Time, limit int) ([]Alert, error)
}

// alerts answers the alerts since (default: the last 24 hours).
func (c *Console) alerts(w http.ResponseWriter, r *http.Request) {
	p := &params{q: r.URL.Query()}
	since := p.time("since", c.d.Now().Add(-24*time.Hour))
	limit := p.int("limit", 100, 1, 1000)
	if !p.ok(w) {
		return
	}
	list := []Alert{}
	if c.d.Alerts != nil {
		got, err := c.d.Alerts.Alerts(r.Context(), since, int(limit))
		if err != nil {
			c.fail(w, r, "reading the alerts", err)
			return
		}
		if got != nil {
			list = got
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": list})
}
