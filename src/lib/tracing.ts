import { context, trace, SpanStatusCode, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { logger } from './logger.js';

/**
 * Traces over OTLP/HTTP, only when OTEL_EXPORTER_OTLP_ENDPOINT is set. Without it nothing is
 * registered, so `tracer()` is the API's no-op tracer and a span costs a function call.
 *
 * The spans follow one event through the product: webhook → store → projection → score →
 * decision → Stripe call. There is no auto-instrumentation (http, pg): the spans are the
 * product's own steps, named after what they do.
 */
const TRACER_NAME = 'churn';

let provider: { shutdown(): Promise<void>; forceFlush(): Promise<void> } | null = null;

export interface TracingOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT, e.g. http://127.0.0.1:4318 (the exporter appends /v1/traces) */
  endpoint?: string;
  serviceName?: string;
}

/** Starts exporting spans when an endpoint is configured; a no-op otherwise (and when already started). */
export async function startTracing(options: TracingOptions): Promise<boolean> {
  if (!options.endpoint || provider) return false;
  const [{ NodeTracerProvider }, { BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const url = `${options.endpoint.replace(/\/+$/, '')}/v1/traces`;
  const nodeProvider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName ?? 'churn' }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  // register() installs the AsyncLocalStorage context manager, so child spans find their parent.
  nodeProvider.register();
  provider = nodeProvider;
  logger.info({ url }, 'tracing: exporting spans over OTLP');
  return true;
}

/** Sends what is buffered and stops exporting (graceful shutdown, tests). */
export async function stopTracing(): Promise<void> {
  const current = provider;
  provider = null;
  if (!current) return;
  await current.forceFlush().catch(() => {});
  await current.shutdown().catch(() => {});
  trace.disable();
  context.disable();
}

export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/**
 * Runs `work` inside a span that is the active context for everything it awaits; the span records
 * an exception and an error status when `work` throws, and always ends.
 */
export async function inSpan<T>(name: string, attributes: Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** `inSpan` for synchronous work (the pure decision function). */
export function inSyncSpan<T>(name: string, attributes: Attributes, work: () => T): T {
  return tracer().startActiveSpan(name, { attributes }, (span) => {
    try {
      return work();
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}
