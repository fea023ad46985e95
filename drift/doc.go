// Package drift learns what the data flowing through Warden usually
// looks like and says when it changes: baselines of finding and refusal
// rates, and detectors for departures from them, for finding types a
// principal never sent before, for leaks, and for MCP tool definitions
// refused because they changed or were never approved.
//
// It is pure: no I/O, no goroutines, no clock of its own. The caller
// (package alerts, which tails the audit log) hands it one [Event] per
// audit entry with [Detector.Observe], in log order, and calls
// [Detector.Advance] with the current time to close hours and collect
// the alerts raised since the last call. Times come from the entries
// and from the caller, so a trace replayed in a test gives the same
// alerts as live traffic. [Detector.Changes] and [Restore] carry the
// state across restarts.
//
// # Series and buckets
//
// A series counts events per hour (bucket b = ⌊unix seconds / 3600⌋):
//
//	findings  per (principal, model, finding type): findings of that type
//	          in requests (request and intent entries)
//	refusals  per principal: requests refused with a 4xx before any
//	          upstream call (request entries)
//
// The refusal series of a principal is created by its first entry of
// any kind, so its first bucket is when the principal was first seen.
// Series are created on first sight, at most Config.MaxSeries of them;
// beyond that, new series are not tracked and Stats.Dropped counts
// them.
//
// An entry is counted in the bucket of its time, or in the open bucket
// if that is later (entries of several replicas arrive slightly out of
// order; a late entry is never lost, it counts in the hour it was read).
// An entry of a later hour closes the open one; so does Advance once
// the hour's end is Config.Grace past.
//
// # Baselines
//
// Counts are compared on a variance-stabilised scale: y = √(x + 3/8)
// (Anscombe, 1948). A Poisson count of any mean λ has Var(y) ≈ 1/4 and
// a nearly symmetric distribution there, so one threshold k means about
// the same tail probability for a busy series and a quiet one (on the
// raw scale, k·√λ is far too tight for small λ: its right tail is
// heavy).
//
// Each series keeps two exponentially weighted baselines of y, updated
// when a bucket closes, empty hours counting 0 (applied lazily, when
// the series is next touched). For a sample y, with n samples folded
// before it and base weight a, the weight is w = max(a, 1/(n+1)) (the
// first samples are averaged plainly: one hour alone is no baseline):
//
//	δ  = y − m
//	m ← m + w·δ
//	v ← (1 − w)·(v + w·δ²)
//
// (the exponentially weighted mean and variance of Finch, "Incremental
// calculation of weighted mean and variance", 2009).
//
// The overall baseline μ, σ² folds every hour, with base weight
// α = 1 − 2^(−1/H), H = Config.HalfLife in hours (default 24).
//
// The hour-of-week baselines m_h, v_h fold only the hours of slot
// h = (b + 72) mod 168 (0 is Monday 00:00 UTC; the Unix epoch was a
// Thursday), with β = 1 − 2^(−1/W), W = Config.SlotHalfLife in weeks
// (default 4); n_h counts the weeks seen. Traffic that is heavy on
// Monday mornings and quiet at night is compared with Monday mornings.
//
// The baseline of the open bucket b is the slot's once it has seen
// Config.SlotWeeks weeks (default 2), else the overall one, and the
// spread allows for the baseline's own uncertainty:
//
//	m, v, n, a = m_h, v_h, n_h, β   if n_h ≥ SlotWeeks
//	m, v, n, a = μ, σ², n, α        otherwise
//	n_eff      = min(n, (2 − a)/a)          (an EWMA's effective sample size)
//	s          = √(max(v, 1/4)·(1 + 1/n_eff))
//	z          = (√(x + 3/8) − m) / s
//	e          = max(0, m² − 3/8)          (the expected count, for people)
//
// The floor 1/4 is the variance of a Poisson count on this scale: a
// series whose past hours happened to be alike still gets the spread
// that counting alone produces. With the default warm-up (two weeks)
// and SlotWeeks (two), alerts always use an hour-of-week baseline; a
// shorter Warmup falls back on the overall one, which does not know a
// Monday from a Sunday.
//
// # Detectors
//
// Rate departure (findings, Kind RateDeparture) and refusal spike
// (refusals, Kind RefusalSpike) fire as soon as the open bucket's count
// x satisfies all of
//
//	z     ≥ k             k = Config.Sigma (default 5)
//	x − e ≥ c             c = Config.MinCount (default 10)
//	x     ≥ r·e           r = Config.MinRatio (default 1.5)
//
// once the series is Config.Warmup old (default 336h, two weeks): its
// first bucket at least that far behind the open one. Each series fires
// at most once per bucket. With Config.Drops, a closed bucket with
// z ≤ −k, e − x ≥ c and x ≤ e/r fires a RateDrop (off by default:
// quiet hours are rarely incidents).
//
// Measured on steady Poisson traffic with daily and weekly swings
// (TestMeasureFalseAlertRate: 40 seeds × 8 weeks × 10 series), k = 3
// gave 0.023 false alerts per series-week, k = 4 gave 0.0013 and k = 5
// none in 2400 series-weeks; a ×3 shift of a series of 20 an hour gives
// z ≈ 6.
//
// New finding type (NewFindingType) fires the first time a principal's
// requests carry a type none of its requests carried before (on any
// model), once the principal is Warmup old: before that, everything is
// new. Only types whose series is tracked alert (so that the alert,
// like the type, is remembered across restarts).
//
// Leak (Leak) fires for completion entries with leaks > 0, one alert per
// (principal, model) per Advance, with the leaks and entries summed.
//
// Tool definition (ToolChanged, ToolUnapproved) fires for an MCP call
// refused because the tool's definition differs from its pin (changed:
// a rug pull) or was never approved or holds hidden instructions
// (unapproved), once per (server, tool, definition hash).
//
// Alerts carry names (principal, model, finding type, error code,
// server, tool), counts and definition hashes: never a value.
package drift
