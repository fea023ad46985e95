package gateway

import (
	"context"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Tracing.
//
// Each API request is one server span, named as the OpenTelemetry GenAI
// semantic conventions name an inference span:
// "{gen_ai.operation.name} {gen_ai.request.model}" ("chat gpt-4o-mini"),
// or the operation alone until the model is known. Each upstream attempt
// is a client span of the same name for the upstream model, and the
// expensive stages of the request path (scan, detect, policy,
// de-identify, guard, audit) are internal child spans named
// "warden.<stage>".
//
// Spans hold names, counts, decisions and timings, never content: no
// prompt or response text, no detected value, token, API key or upstream
// credential. Errors appear as the gateway's own error codes
// (error.type = "policy_denied", "upstream_unavailable", …), never as
// error messages, which may quote input. The only free text is the
// decision's reasons (warden.reasons), which name finding types and
// zones, never values.
//
// The caller's W3C traceparent becomes the server span's parent, and the
// upstream receives a traceparent of the same trace whose parent is the
// client span. Nothing else of the caller's crosses: tracestate is
// caller-controlled free text the gateway has no use for, so it is
// neither read, recorded nor sent upstream.
//
// Cost: without a TracerProvider the gateway uses the noop provider and
// reads and writes no trace header. A request that is not recorded
// (tracing off, or sampled out) builds no attribute and starts no child
// span: every helper here first asks exchange.recording.

// tracerName is the instrumentation scope of the gateway's spans.
const tracerName = "github.com/wardenhq/warden/gateway"

// Attribute keys of the GenAI semantic conventions
// (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/).
// semconv v1.43.0 no longer carries the gen_ai group, so they are
// spelled here.
const (
	keyGenAIOperation    = attribute.Key("gen_ai.operation.name")
	keyGenAIToolName     = attribute.Key("gen_ai.tool.name")
	keyMCPServer         = attribute.Key("warden.mcp.server")
	keyMCPMethod         = attribute.Key("mcp.method.name")
	keyGenAIProvider     = attribute.Key("gen_ai.provider.name")
	keyGenAIRequestModel = attribute.Key("gen_ai.request.model")
	keyGenAIRespModel    = attribute.Key("gen_ai.response.model")
	keyGenAIInputTokens  = attribute.Key("gen_ai.usage.input_tokens")
	keyGenAIOutputTokens = attribute.Key("gen_ai.usage.output_tokens")
)

// Warden's own attribute keys. Per-type counts are
// "warden.findings.<TYPE>" and "warden.operators.<operator>".
const (
	keyRequestID  = attribute.Key("warden.request_id")
	keyPrincipal  = attribute.Key("warden.principal")
	keyTenant     = attribute.Key("warden.tenant")
	keyDecision   = attribute.Key("warden.decision")
	keyReasons    = attribute.Key("warden.reasons")
	keyRules      = attribute.Key("warden.policy.rules")
	keyPolicy     = attribute.Key("warden.policy.version")
	keyUpstream   = attribute.Key("warden.upstream")
	keyZone       = attribute.Key("warden.zone")
	keyStream     = attribute.Key("warden.stream")
	keyFindings   = attribute.Key("warden.findings")
	keyAuditIndex = attribute.Key("warden.audit.index")
	keyRestored   = attribute.Key("warden.restored")
	keyLeaks      = attribute.Key("warden.leaks")
	keyAttempt    = attribute.Key("warden.upstream.attempt")
)

// traceparentOnly shows the propagator a request's traceparent header
// and nothing else (see the tracestate note above).
type traceparentOnly http.Header

func (h traceparentOnly) Get(key string) string {
	if key != "traceparent" {
		return ""
	}
	return http.Header(h).Get("Traceparent")
}

func (traceparentOnly) Set(string, string) {}
func (traceparentOnly) Keys() []string     { return []string{"traceparent"} }

// noSpan is a span that records nothing, for stages of requests that are
// not recorded. SpanFromContext of an empty context returns the trace
// package's shared no-op span, so this does not allocate.
func noSpan() trace.Span { return trace.SpanFromContext(context.Background()) }

// startRequest starts the request's server span under the caller's
// trace context and sets x.ctx, x.span and x.recording.
func (s *Server) startRequest(r *http.Request, x *exchange) {
	if !s.tracing {
		// Even the noop provider's Start allocates a context; off costs
		// nothing.
		x.ctx, x.span = r.Context(), noSpan()
		return
	}
	ctx := propagation.TraceContext{}.Extract(r.Context(), traceparentOnly(r.Header))
	op := x.sh.op
	x.ctx, x.span = s.tracer.Start(ctx, op, trace.WithSpanKind(trace.SpanKindServer))
	x.recording = x.span.IsRecording()
	if !x.recording {
		return
	}
	x.span.SetAttributes(
		keyGenAIOperation.String(op),
		keyGenAIProvider.String(x.sh.provider),
		semconv.HTTPRequestMethodKey.String(r.Method),
		semconv.HTTPRoute(x.sh.route()),
		keyRequestID.String(x.rec.RequestID),
	)
}

// route is the shape's HTTP route, as the span names it.
func (sh *shape) route() string {
	if sh.mcp {
		return "/mcp/{name}"
	}
	return "/v1" + sh.path
}

// nameRequest renames the server span once the model is known (and
// admitted by the principal's allowlist, so a caller cannot write
// arbitrary text into span names).
func (x *exchange) nameRequest(model string) {
	if !x.recording {
		return
	}
	x.span.SetName(x.sh.op + " " + model)
	x.span.SetAttributes(keyGenAIRequestModel.String(model))
}

// endRequest sets what the request came to on the server span and ends
// it.
func (s *Server) endRequest(x *exchange, status int) {
	if x.upSpan != nil {
		x.upSpan.End() // a path that returned before the upstream's body ended
	}
	if !x.recording {
		x.span.End()
		return
	}
	ev := x.rec
	attrs := make([]attribute.KeyValue, 0, 24)
	attrs = append(attrs,
		semconv.HTTPResponseStatusCode(status),
		keyStream.Bool(ev.Stream),
		keyFindings.Int(sumCounts(ev.Findings)),
		keyRestored.Int(x.restored),
		keyLeaks.Int(x.leaks),
	)
	if ev.Principal != "" {
		attrs = append(attrs, keyPrincipal.String(ev.Principal), keyTenant.String(ev.Tenant))
	}
	if ev.Decision != "" {
		attrs = append(attrs, keyDecision.String(ev.Decision), keyPolicy.String(ev.Policy))
	}
	if len(ev.Rules) > 0 {
		attrs = append(attrs, keyRules.StringSlice(ev.Rules))
	}
	if len(ev.Reasons) > 0 {
		attrs = append(attrs, keyReasons.StringSlice(ev.Reasons))
	}
	if ev.Upstream != "" {
		attrs = append(attrs, keyUpstream.String(ev.Upstream), keyZone.String(ev.Zone))
		attrs = append(attrs, x.up.addr...)
	}
	if x.mcp != nil {
		// Names confirmed by the server's definitions only (recordMCP,
		// inspectMCP): never the caller's text.
		attrs = append(attrs, keyMCPServer.String(ev.Server), keyMCPMethod.String(ev.Method))
		if ev.Tool != "" {
			attrs = append(attrs, keyGenAIToolName.String(ev.Tool))
			x.span.SetName(x.sh.op + " " + ev.Tool)
		}
	}
	if x.respModel != "" {
		attrs = append(attrs, keyGenAIRespModel.String(x.respModel))
	}
	if n := x.usage.inputTokens(); n > 0 {
		attrs = append(attrs, keyGenAIInputTokens.Int(n))
	}
	if n := x.usage.outputTokens(); n > 0 {
		attrs = append(attrs, keyGenAIOutputTokens.Int(n))
	}
	if x.final >= 0 {
		attrs = append(attrs, keyAuditIndex.Int64(x.final))
	}
	for t, n := range ev.Findings {
		attrs = append(attrs, attribute.Int("warden.findings."+t, n))
	}
	for op, n := range ev.Operators {
		attrs = append(attrs, attribute.Int("warden.operators."+op, n))
	}
	if x.rec.Error != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(x.rec.Error))
	} else if status >= 400 {
		attrs = append(attrs, semconv.ErrorTypeKey.String(strconv.Itoa(status)))
	}
	x.span.SetAttributes(attrs...)
	s.guardOutput(x)
	// A server span is an error only when the server failed (5xx), as
	// the HTTP conventions say; refusals are outcomes, told by error.type
	// and warden.decision.
	if status >= 500 {
		x.span.SetStatus(codes.Error, x.rec.Error)
	}
	x.span.End()
}

// stage starts an internal child span of ctx (a context of the request)
// for one stage of the path; for a request not recorded it returns ctx
// and a span that records nothing.
func (s *Server) stage(ctx context.Context, x *exchange, name string) (context.Context, trace.Span) {
	if !x.recording {
		return ctx, noSpan()
	}
	return s.tracer.Start(ctx, name)
}

// sendErrorType names why an upstream call got no answer: the caller
// went away (ctx done), the upstream timeout fired (uctx done), or the
// connection failed.
func sendErrorType(ctx, uctx context.Context) string {
	switch {
	case ctx.Err() != nil:
		return "canceled"
	case uctx.Err() != nil:
		return "timeout"
	}
	return "upstream_unreachable"
}

// failStage marks a stage span failed with the gateway's error code
// (never an error message).
func failStage(sp trace.Span, code string) {
	if sp.IsRecording() {
		sp.SetAttributes(semconv.ErrorTypeKey.String(code))
		sp.SetStatus(codes.Error, code)
	}
}

// startUpstream starts the client span of one upstream attempt and
// returns the context to send it with. The span is x.upSpan until
// endUpstream.
func (s *Server) startUpstream(ctx context.Context, x *exchange, u *Upstream, model string, attempt int) context.Context {
	if !x.recording {
		return ctx
	}
	op := x.sh.op
	ctx, x.upSpan = s.tracer.Start(ctx, op+" "+model, trace.WithSpanKind(trace.SpanKindClient))
	x.upSpan.SetAttributes(
		keyGenAIOperation.String(op),
		keyGenAIProvider.String(x.sh.provider),
		keyGenAIRequestModel.String(model),
		semconv.HTTPRequestMethodKey.String(http.MethodPost),
		keyUpstream.String(u.Name),
		keyZone.String(u.Zone),
		keyAttempt.Int(attempt),
	)
	x.upSpan.SetAttributes(u.addr...)
	return ctx
}

// endUpstream ends the current attempt's client span with the status the
// upstream answered (0: no answer) and, on failure, an error code.
func (x *exchange) endUpstream(status int, errType string) {
	if x.upSpan == nil {
		return
	}
	if status > 0 {
		x.upSpan.SetAttributes(semconv.HTTPResponseStatusCode(status))
	}
	if errType == "" && status >= 400 {
		errType = strconv.Itoa(status)
	}
	if errType != "" {
		x.upSpan.SetAttributes(semconv.ErrorTypeKey.String(errType))
		x.upSpan.SetStatus(codes.Error, errType)
	}
	x.upSpan.End()
	x.upSpan = nil
}

// injectTrace writes the traceparent of ctx into an upstream request.
func (s *Server) injectTrace(ctx context.Context, h http.Header) {
	if s.tracing {
		propagation.TraceContext{}.Inject(ctx, injectCarrier(h))
	}
}

// injectCarrier lets the propagator write traceparent alone. The span
// contexts the gateway makes carry no tracestate (it is dropped on
// extraction); this keeps one from ever reaching an upstream.
type injectCarrier http.Header

func (h injectCarrier) Get(key string) string { return http.Header(h).Get(key) }
func (h injectCarrier) Set(key, value string) {
	if key == "traceparent" {
		http.Header(h).Set("Traceparent", value)
	}
}
func (injectCarrier) Keys() []string { return nil }

// isUsagePath reports whether path names a count of a usage object:
// $.usage.K, $.response.usage.K or $.message.usage.K.
func isUsagePath(path string) bool {
	k := lastKey(path)
	if k == "" {
		return false
	}
	switch path[:len(path)-len(k)] {
	case "$.usage.", "$.response.usage.", "$.message.usage.":
		return true
	}
	return false
}

// noteEvent records the usage a stream event reports ($.usage,
// $.response.usage, Anthropic's $.message.usage at the start) and, for
// the trace, the response model.
func (x *exchange) noteEvent(d *evDoc) {
	var u usage
	for i := range d.vals {
		v := &d.vals[i]
		if v.isKey || v.container {
			continue
		}
		switch {
		case v.number && isUsagePath(v.path):
			n, _ := strconv.Atoi(v.text)
			u.set(lastKey(v.path), n)
		case x.recording && x.respModel == "" && !v.number && !v.literal &&
			(v.path == "$.model" || v.path == "$.response.model" || v.path == "$.message.model"):
			x.respModel = v.text
		}
	}
	x.usage.merge(u)
}

// serverAttrs are the server.address and server.port of an upstream's
// URL (none for an in-process upstream).
func serverAttrs(u *Upstream) []attribute.KeyValue {
	if u.base == nil {
		return nil
	}
	port := 443
	if u.base.Scheme == "http" {
		port = 80
	}
	if p := u.base.Port(); p != "" {
		port, _ = strconv.Atoi(p)
	}
	return []attribute.KeyValue{semconv.ServerAddress(u.base.Hostname()), semconv.ServerPort(port)}
}
