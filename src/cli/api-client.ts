import type { ApiDiagnostic, ErrorBody } from '../api/api-error.ts';
import { CliError } from './cli-error.ts';
import { ExitCode } from './exit-codes.ts';

export interface ApiClientOptions {
  /** Base URL of the daemon's API, e.g. http://127.0.0.1:7420 */
  readonly baseUrl: string;
  readonly token?: string;
  /** Appended to a 401's message: which token was sent, or where the CLI looked for one. */
  readonly unauthorizedHint?: string;
  /** Per-request timeout. */
  readonly timeoutMs?: number;
}

function isErrorBody(value: unknown): value is ErrorBody {
  return typeof value === 'object' && value !== null && typeof (value as ErrorBody).error?.code === 'string';
}

/** The REST API over fetch; every failure becomes a CliError with the right exit code. */
export class ApiClient {
  constructor(private readonly options: ApiClientOptions) {}

  /** The daemon's host name or address, as given in the URL. */
  get host(): string {
    return new URL(this.options.baseUrl).hostname;
  }

  /** Where a stream (WebSocket) on `path` connects, with the headers that authenticate it. */
  streamTarget(path: string): { url: string; headers: Record<string, string>; unauthorizedHint?: string } {
    const url = new URL(path, this.options.baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return {
      url: url.toString(),
      headers: this.options.token ? { authorization: `Bearer ${this.options.token}` } : {},
      ...(this.options.unauthorizedHint ? { unauthorizedHint: this.options.unauthorizedHint } : {}),
    };
  }

  /** The page URL of the daemon for a browser: the token rides in the fragment, which is never sent. */
  pageUrl(path: string, fragment: Record<string, string>): string {
    const url = new URL(path, this.options.baseUrl);
    const parts = { ...(this.options.token ? { token: this.options.token } : {}), ...fragment };
    url.hash = new URLSearchParams(parts).toString();
    return url.toString();
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(path, this.options.baseUrl);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new CliError(ExitCode.unreachable, `cannot reach the daemon at ${this.options.baseUrl} (${reason}); is it running? (--api URL or CONSTELLATION_API_URL)`);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (response.ok) return parsed as T;
    const error = isErrorBody(parsed) ? parsed.error : { code: `http_${response.status}`, message: text.slice(0, 200) || response.statusText, diagnostics: [] as ApiDiagnostic[] };
    const hint = response.status === 401 && this.options.unauthorizedHint ? `; ${this.options.unauthorizedHint}` : '';
    throw new CliError(exitCodeFor(response.status), `${error.message} [${error.code}]${hint}`, error.diagnostics, error.code);
  }
}

function exitCodeFor(status: number) {
  if (status === 401 || status === 403) return ExitCode.unauthorized;
  if (status === 404) return ExitCode.notFound;
  if (status >= 400 && status < 500) return ExitCode.invalid;
  return ExitCode.failed;
}
