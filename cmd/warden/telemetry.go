package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// traceFlushTimeout bounds the export of the spans still queued when
// the gateway stops.
const traceFlushTimeout = 5 * time.Second

// newTracerProvider builds the gateway's tracer provider from
// telemetry.traces: spans batched and POSTed to an OTLP/HTTP collector.
// With no endpoint it returns nil (the gateway then traces nothing) and a
// no-op closer. The closer flushes queued spans and stops the exporter;
// call it after the HTTP server has drained, so the last requests'
// spans are in the queue.
func newTracerProvider(ctx context.Context, t TracesConfig, log *slog.Logger) (trace.TracerProvider, func(), error) {
	if t.exporter != nil {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(t.exporter))
		return tp, func() { tp.Shutdown(context.Background()) }, nil
	}
	if t.url == "" {
		return nil, func() {}, nil
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(t.url))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", t.source, err)
	}
	// Export errors (collector down, refused) would otherwise go to the
	// standard logger as plain text; they name the endpoint, never span
	// content.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("trace export failed", "error", err.Error())
	}))
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(t.SampleRatio))),
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(t.ServiceName), semconv.ServiceVersion(version))),
	)
	shutdown := func() {
		ctx, cancel := context.WithTimeout(context.Background(), traceFlushTimeout)
		defer cancel()
		if err := tp.Shutdown(ctx); err != nil {
			log.Warn("trace flush failed; spans of the last requests may be lost", "error", err.Error())
		}
	}
	return tp, shutdown, nil
}
