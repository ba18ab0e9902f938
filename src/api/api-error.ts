import type { ComposeDiagnostic } from '../compose/types.ts';

export type ApiDiagnostic = Pick<ComposeDiagnostic, 'severity' | 'code' | 'message'> & Partial<Omit<ComposeDiagnostic, 'severity' | 'code' | 'message'>>;

/** An error the API answers with on purpose: an HTTP status, a stable code, and what is wrong where. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly diagnostics: readonly ApiDiagnostic[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ErrorBody {
  error: { code: string; message: string; diagnostics: ApiDiagnostic[] };
}

export function errorBody(code: string, message: string, diagnostics: readonly ApiDiagnostic[] = []): ErrorBody {
  return { error: { code, message, diagnostics: [...diagnostics] } };
}
