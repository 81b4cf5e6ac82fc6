import { Agent, request, type Dispatcher } from 'undici';
import { FAILURE_CODE, RETRY_CLASS, type LookupFailure } from '../../core/errors.js';
import { isSimulatorResponse } from '../../core/lookup-result.js';
import type { SendWindow } from '../../core/send-window.js';

export interface HttpResponse {
  readonly status: number;
  /** Lower-case header names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export type TransportResult =
  | { readonly ok: true; readonly response: HttpResponse }
  | { readonly ok: false; readonly failure: LookupFailure };

export interface HttpRequest {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Cancels the call (shutdown); a cancelled call rejects instead of returning a failure. */
  readonly signal?: AbortSignal;
  /** The request's place in a shared rate (--rate): it is written only while the place holds. */
  readonly window?: SendWindow | undefined;
}

export interface HttpTransport {
  post(url: string, init: HttpRequest): Promise<TransportResult>;
  /** True once any answer came from the built-in simulator (a provider talks to one origin). */
  servedBySimulator?(): boolean;
  close(): Promise<void>;
}

/** One upstream request as metrics see it: never the body, the headers or the number. */
export interface UpstreamRequestEvent {
  /** The URL's path, e.g. `/identity-insights/v1/requests`. */
  readonly path: string;
  /** The HTTP status, or the failure code when no answer came (`ERROR_TIMEOUT`, `ERROR_NETWORK`). */
  readonly status: number | string;
  /** Time to the last body byte (or the failure), in milliseconds. */
  readonly durationMs: number;
}

/** Told about every upstream request that ended (not those cancelled at shutdown). Must not throw. */
export type UpstreamObserver = (event: UpstreamRequestEvent) => void;

export interface HttpTransportOptions {
  /** Time limit of one call, connect to last body byte, in milliseconds. */
  readonly timeoutMs: number;
  /** Most sockets kept open per origin. Default 64. */
  readonly connections?: number;
  /** Metrics: each request's status and latency. */
  readonly observer?: UpstreamObserver;
}

/**
 * One keep-alive connection pool per provider, so a batch does not pay a TCP (and TLS) handshake per number.
 * Timeouts and broken connections come back classified, never as raw exceptions.
 */
export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const agent = new Agent({
    connections: options.connections ?? 64,
    keepAliveTimeout: 4_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });

  let simulator = false;
  // A provider posts to a few URLs: each one's path is worked out once, not per request.
  const paths = new Map<string, string>();
  const pathOf = (url: string) => {
    let path = paths.get(url);
    if (path !== undefined) return path;
    path = new URL(url).pathname;
    if (paths.size < 32) paths.set(url, path);
    return path;
  };
  const observe = (url: string, started: number, status: number | string) => {
    if (options.observer === undefined) return;
    try {
      options.observer({ path: pathOf(url), status, durationMs: performance.now() - started });
    } catch {
      // Metrics never break a lookup.
    }
  };

  const dispatcher = agent.compose(lateGuard);

  /** Sends the request; one whose place in the rate went by is not written, and is sent again in a new place. */
  const send = async (url: string, init: HttpRequest, signal: AbortSignal) => {
    for (let window = init.window; ;) {
      const options: RequestOptions = {
        method: 'POST',
        headers: init.headers,
        body: init.body,
        dispatcher,
        signal,
      };
      const held = window;
      if (held !== undefined) options[LATE] = () => held.late();
      try {
        return await request(url, options);
      } catch (error) {
        if (!(error instanceof NotSentLate) || window === undefined) throw error;
        window = await window.retake(signal);
      }
    }
  };

  return {
    async post(url, init) {
      const deadline = new Deadline(options.timeoutMs, init.signal);
      const started = performance.now();
      try {
        const res = await send(url, init, deadline.signal);
        const body = await res.body.text();
        observe(url, started, res.statusCode);
        const headers = flattenHeaders(res.headers);
        simulator ||= isSimulatorResponse(headers);
        return { ok: true, response: { status: res.statusCode, headers, body } };
      } catch (error) {
        if (init.signal?.aborted) throw error;
        const failure = classifyTransportError(error, deadline.passed(), options.timeoutMs);
        observe(url, started, failure.code);
        return { ok: false, failure };
      } finally {
        deadline.clear();
      }
    },
    servedBySimulator: () => simulator,
    close: () => agent.close(),
  };
}

/**
 * One call's time limit, and the caller's cancel, as one signal. Cleared when the call ends: an
 * `AbortSignal.timeout` lives until it fires, so thousands of calls a second each left a timer and a signal
 * behind for the whole limit, and creating them showed in the profile.
 */
class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private timedOut = false;
  private readonly cancel: (() => void) | null = null;

  constructor(
    timeoutMs: number,
    private readonly caller: AbortSignal | undefined,
  ) {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    }, timeoutMs);
    if (caller === undefined) return;
    if (caller.aborted) this.controller.abort(caller.reason);
    else {
      this.cancel = () => this.controller.abort(caller.reason);
      caller.addEventListener('abort', this.cancel, { once: true });
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  passed(): boolean {
    return this.timedOut;
  }

  clear(): void {
    clearTimeout(this.timer);
    if (this.cancel !== null) this.caller?.removeEventListener('abort', this.cancel);
  }
}

/** Carries a send window's check from `post` to the guard, through undici's request options. */
const LATE = Symbol('reachscan.sendWindow.late');

type RequestOptions = NonNullable<Parameters<typeof request>[1]> & { [LATE]?: () => boolean };

/** A request refused unwritten because its place in the rate went by before its connection was ready. */
class NotSentLate extends Error {
  constructor() {
    super('not sent: its place in the rate went by before it could be written');
    this.name = 'NotSentLate';
  }
}

/**
 * Asks the send window at the last moment before undici writes the request: the time a new connection takes, or
 * a stall of the event loop, falls between the admission and here. Throwing from onRequestStart makes undici fail
 * the request before writing a byte, and keeps the connection.
 */
const lateGuard: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => {
  const late = (opts as { [LATE]?: () => boolean })[LATE];
  if (late === undefined) return dispatch(opts, handler);
  return dispatch(opts, {
    onRequestStart(controller, context) {
      if (late()) throw new NotSentLate();
      handler.onRequestStart?.(controller, context);
    },
    onRequestUpgrade: (controller, statusCode, headers, socket) =>
      handler.onRequestUpgrade?.(controller, statusCode, headers, socket),
    onResponseStart: (controller, statusCode, headers, statusMessage) =>
      handler.onResponseStart?.(controller, statusCode, headers, statusMessage),
    onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
    onResponseEnd: (controller, trailers) => handler.onResponseEnd?.(controller, trailers),
    onResponseError: (controller, error) => handler.onResponseError?.(controller, error),
  });
};

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** Transport errors are all worth a retry; the code says which kind, the detail never carries request data. */
export function classifyTransportError(error: unknown, timedOut: boolean, timeoutMs: number): LookupFailure {
  const code = errorCode(error);
  if (timedOut || (code !== undefined && TIMEOUT_CODES.has(code)) || isNamed(error, 'TimeoutError')) {
    return {
      code: FAILURE_CODE.timeout,
      retry: RETRY_CLASS.retryable,
      detail: `no complete answer within ${timeoutMs} ms`,
    };
  }
  return {
    code: FAILURE_CODE.network,
    retry: RETRY_CLASS.retryable,
    detail: `connection failed or dropped (${code ?? (error instanceof Error ? error.name : 'unknown')})`,
  };
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const own = (error as { code?: unknown }).code;
  if (typeof own === 'string') return own;
  return errorCode((error as { cause?: unknown }).cause);
}

function isNamed(error: unknown, name: string): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === name;
}
