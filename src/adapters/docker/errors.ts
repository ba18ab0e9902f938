import { RuntimeError, type RuntimeErrorCode } from '../../seams/container-runtime.ts';

/** What dockerode puts on errors: the HTTP status of the engine's answer and its JSON body. */
interface EngineErrorShape {
  readonly statusCode?: number;
  readonly json?: { readonly message?: string } | null;
  readonly code?: string;
  readonly message?: string;
}

/** Socket-level failures: the engine is down, restarting, or the socket path is wrong. */
const unavailableCodes = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ETIMEDOUT', 'EACCES', 'ENOTFOUND']);

export function engineStatusCode(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null ? (error as EngineErrorShape).statusCode : undefined;
}

/** The engine's own message ("No such container: abc") rather than dockerode's wrapper text. */
export function engineMessage(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const shape = error as EngineErrorShape;
  const fromJson = shape.json?.message;
  if (typeof fromJson === 'string' && fromJson !== '') return fromJson;
  return shape.message?.trim() ?? String(error);
}

export interface ToRuntimeErrorOptions {
  /** Code for a 404: `image_not_found` for image operations, `not_found` (default) for containers. */
  readonly notFoundCode?: RuntimeErrorCode;
  /** What was operated on, for the message: a container id or name, an image reference. */
  readonly subject?: string;
}

/** Maps any failure of an engine call to a RuntimeError carrying a code and the operation. */
export function toRuntimeError(operation: string, error: unknown, options: ToRuntimeErrorOptions = {}): RuntimeError {
  if (error instanceof RuntimeError) return error;
  const status = engineStatusCode(error);
  const message = engineMessage(error);
  const subject = options.subject === undefined ? '' : ` ${options.subject}`;
  const describe = (what: string) => `docker ${operation}${subject}: ${what}`;
  if (status === undefined) {
    const socketCode = typeof error === 'object' && error !== null ? (error as EngineErrorShape).code : undefined;
    if (socketCode !== undefined && unavailableCodes.has(socketCode)) {
      return new RuntimeError('engine_unavailable', operation, describe(`cannot reach the Docker engine (${socketCode}): ${message}`), { cause: error });
    }
    return new RuntimeError('engine_error', operation, describe(message), { cause: error });
  }
  const code: RuntimeErrorCode =
    status === 404 ? (options.notFoundCode ?? (/no such image/i.test(message) ? 'image_not_found' : 'not_found'))
    : status === 409 ? 'conflict'
    : status === 400 ? 'invalid_request'
    : status === 503 ? 'engine_unavailable'
    : 'engine_error';
  return new RuntimeError(code, operation, describe(`${message} (HTTP ${status})`), { cause: error });
}
