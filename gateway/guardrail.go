package gateway

import (
	"sort"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// The OpenTelemetry GenAI guardrail conventions (Config.GenAIGuardrails).
//
// Names follow "Semantic conventions for GenAI guardrails"
// (docs/gen-ai/gen-ai-guardrails.md of
// open-telemetry/semantic-conventions-genai at commit
// f5e3733b19bdb5cb9074c2ec26da9e375d52a40a, status Development): the
// apply_guardrail span (type gen_ai.apply_guardrail.client) and the
// gen_ai.guardrail.result event. They are not stable, so every name is
// here and nowhere else.
//
// Warden is the guardrail, so it records its own evaluation:
//
//   - the input check (detect, then policy) of each traced request is a
//     span "apply_guardrail Warden", a child of the request's server
//     span, from the start of inspection to the decision. The
//     convention's span describes a call to a remote guardrail and
//     asks for kind CLIENT; Warden evaluates in process, so the span is
//     INTERNAL (guardrailSpanKind). Its result is the policy decision
//     (gen_ai.guardrail.result.type "decision", value allow, deidentify
//     or deny), with the error code as the reason when the request was
//     refused, and the policy version as gen_ai.guardrail.policy.id.
//   - each finding type in the request is a gen_ai.guardrail.result
//     event on that span: risk.category the type (EMAIL_ADDRESS …, as
//     the convention's own example has it), result.type "findings",
//     result.value the count, source "input".
//   - the response guard's outcome, when it rewrote leaks or restored
//     tokens, is a gen_ai.guardrail.result event on the server span at
//     the end (source "output", result.type "leaks" or "restored").
//
// Attributes hold names, counts, decisions and error codes only: never
// a value, a prompt, a reason text or the policy's rule messages. The
// convention's opt-in content attributes
// (gen_ai.guardrail.content.*.value) are never set.
const (
	guardrailOperation = "apply_guardrail"
	guardrailComponent = "Warden"
	guardrailProvider  = "warden"
	guardrailEvent     = "gen_ai.guardrail.result"
	guardrailSpanKind  = trace.SpanKindInternal

	keyGuardrailComponent   = attribute.Key("gen_ai.guardrail.component.name")
	keyGuardrailPolicyID    = attribute.Key("gen_ai.guardrail.policy.id")
	keyGuardrailResultType  = attribute.Key("gen_ai.guardrail.result.type")
	keyGuardrailResultValue = attribute.Key("gen_ai.guardrail.result.value")
	keyGuardrailReason      = attribute.Key("gen_ai.guardrail.result.reason")
	keyGuardrailSource      = attribute.Key("gen_ai.guardrail.source")
	keyGuardrailRiskCat     = attribute.Key("gen_ai.guardrail.risk.category")
	keyGuardrailRuleID      = attribute.Key("gen_ai.guardrail.policy.rule.id")
)

// guardInput records the input check that ran from start to now and
// ended with bad (nil: the request may go on).
func (s *Server) guardInput(x *exchange, start time.Time, bad *apiError) {
	if !s.cfg.GenAIGuardrails || !x.recording {
		return
	}
	rec := x.rec
	_, sp := s.tracer.Start(x.ctx, guardrailOperation+" "+guardrailComponent,
		trace.WithSpanKind(guardrailSpanKind), trace.WithTimestamp(start),
		trace.WithAttributes(
			keyGenAIOperation.String(guardrailOperation),
			keyGenAIProvider.String(guardrailProvider),
			keyGuardrailComponent.String(guardrailComponent),
			keyGuardrailSource.String("input"),
		))
	decision := rec.Decision
	if decision == "" {
		decision = "none" // refused before the policy ran
	}
	attrs := []attribute.KeyValue{keyGuardrailResultType.String("decision"), keyGuardrailResultValue.String(decision)}
	if rec.Policy != "" {
		attrs = append(attrs, keyGuardrailPolicyID.String(rec.Policy))
	}
	if bad != nil {
		attrs = append(attrs, keyGuardrailReason.String(bad.Code))
		if bad.Status >= 500 {
			attrs = append(attrs, semconv.ErrorTypeKey.String(bad.Code))
		}
	}
	sp.SetAttributes(attrs...)
	types := make([]string, 0, len(rec.Findings))
	for t := range rec.Findings {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		ev := []attribute.KeyValue{
			keyGuardrailComponent.String(guardrailComponent),
			keyGuardrailSource.String("input"),
			keyGuardrailResultType.String("findings"),
			keyGuardrailResultValue.String(strconv.Itoa(rec.Findings[t])),
			keyGuardrailRiskCat.String(t),
		}
		if rec.Policy != "" {
			ev = append(ev, keyGuardrailPolicyID.String(rec.Policy))
		}
		sp.AddEvent(guardrailEvent, trace.WithAttributes(ev...))
	}
	for _, rule := range rec.Rules {
		// The rules that decided, by their names in the config.
		sp.AddEvent(guardrailEvent, trace.WithAttributes(
			keyGuardrailComponent.String(guardrailComponent),
			keyGuardrailSource.String("input"),
			keyGuardrailResultType.String("decision"),
			keyGuardrailResultValue.String(decision),
			keyGuardrailRuleID.String(rule),
		))
	}
	sp.End()
}

// guardOutput adds the response guard's outcome to the server span.
func (s *Server) guardOutput(x *exchange) {
	if !s.cfg.GenAIGuardrails || !x.recording {
		return
	}
	for _, r := range []struct {
		kind string
		n    int
	}{{"leaks", x.leaks}, {"restored", x.restored}} {
		if r.n == 0 {
			continue
		}
		x.span.AddEvent(guardrailEvent, trace.WithAttributes(
			keyGuardrailComponent.String(guardrailComponent),
			keyGuardrailSource.String("output"),
			keyGuardrailResultType.String(r.kind),
			keyGuardrailResultValue.String(strconv.Itoa(r.n)),
		))
	}
}
