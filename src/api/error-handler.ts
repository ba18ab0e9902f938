import type { FastifyError, FastifyInstance } from 'fastify';
import { ApiError, errorBody, type ApiDiagnostic } from './api-error.ts';

/** Fastify's own error codes, mapped to ours so clients never see framework internals. */
const frameworkCodes: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_content_length',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'empty_body',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_VALIDATION: 'invalid_request',
};

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

function validationDiagnostics(context: string, issues: readonly ValidationIssue[]): ApiDiagnostic[] {
  return issues.map((issue) => {
    const property = issue.keyword === 'additionalProperties' ? `/${String(issue.params?.additionalProperty)}`
      : issue.keyword === 'required' ? `/${String(issue.params?.missingProperty)}` : '';
    const pointer = `${issue.instancePath ?? ''}${property}`;
    const path = [context, ...pointer.split('/').filter(Boolean)].join('.');
    const message = issue.keyword === 'additionalProperties' ? 'unknown property'
      : issue.keyword === 'required' ? 'is required' : issue.message ?? 'is invalid';
    return { severity: 'error', code: `schema_${issue.keyword ?? 'invalid'}`, message: `${path}: ${message}`, path };
  });
}

/**
 * One error shape for every failure — `{error: {code, message, diagnostics}}` — and no input
 * that can take the daemon down: anything unexpected becomes a logged 500.
 */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    if (error instanceof ApiError) {
      // Refusals are the client's problem, not the daemon's: visible at debug, never as errors.
      request.log.debug({ code: error.code, status: error.statusCode, url: request.url }, 'request refused');
      return reply.status(error.statusCode).send(errorBody(error.code, error.message, error.diagnostics));
    }
    if (error.validation) {
      const diagnostics = validationDiagnostics(error.validationContext ?? 'request', error.validation as ValidationIssue[]);
      const summary = diagnostics.map((d) => d.message).join('; ');
      return reply.status(400).send(errorBody('invalid_request', `invalid request: ${summary}`, diagnostics));
    }
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.status(status).send(errorBody('internal_error', 'internal error; the daemon log has the details'));
    }
    const code = (error.code && frameworkCodes[error.code]) ?? `http_${status}`;
    const message = code === 'unsupported_media_type'
      ? `content-type "${request.headers['content-type'] ?? ''}" is not supported: send application/json {stack, compose}, or the compose file as application/yaml with ?stack=NAME${/^\s*text\/plain/i.test(request.headers['content-type'] ?? '') ? ' (text/plain is refused: any web page can send it cross-site)' : ''}`
      : code === 'body_too_large' ? `request body is larger than the ${app.initialConfig.bodyLimit} byte limit` : error.message;
    return reply.status(status).send(errorBody(code, message));
  });

  app.setNotFoundHandler((request, reply) => {
    return reply.status(404).send(errorBody('not_found', `no route ${request.method} ${request.url.split('?')[0]}`));
  });
}
