import { WebSocket } from 'ws';
import type { ApiClient } from './api-client.ts';
import { CliError } from './cli-error.ts';
import type { CliIo } from './cli-io.ts';
import { ExitCode, type ExitCodeValue } from './exit-codes.ts';

/**
 * Follows a WebSocket stream of the daemon until the user interrupts (exit 130) or the daemon
 * closes it (exit 0 for a normal close, 1 for any other reason, which is printed). A refused
 * handshake maps to the CLI's usual exit codes (401 → 4, other 4xx → 2, unreachable → 3).
 */
export function followStream(client: ApiClient, path: string, io: CliIo, onFrame: (frame: Record<string, unknown>) => void): Promise<ExitCodeValue> {
  const target = client.streamTarget(path);
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(target.url, { headers: target.headers });
    let settled = false;
    const settle = (action: () => void) => {
      if (settled) return;
      settled = true;
      action();
    };
    socket.on('message', (data) => {
      try {
        onFrame(JSON.parse(String(data)) as Record<string, unknown>);
      } catch (error) {
        settle(() => reject(new CliError(ExitCode.failed, `the daemon sent a frame that is not JSON: ${(error as Error).message}`)));
        socket.terminate();
      }
    });
    socket.on('unexpected-response', (_request, response) => {
      const status = response.statusCode ?? 0;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        let message = `the daemon refused the stream (HTTP ${status})`;
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { code?: string; message?: string } };
          if (body.error?.message) message = `${body.error.message} [${body.error.code ?? `http_${status}`}]`;
        } catch {
          // not JSON: keep the status line
        }
        const hint = status === 401 && target.unauthorizedHint ? `; ${target.unauthorizedHint}` : '';
        const code = status === 401 || status === 403 ? ExitCode.unauthorized : status >= 400 && status < 500 ? ExitCode.invalid : ExitCode.failed;
        settle(() => reject(new CliError(code, `${message}${hint}`)));
      });
    });
    socket.on('error', (error) => {
      const reason = (error as NodeJS.ErrnoException).code ?? error.message;
      settle(() => reject(new CliError(ExitCode.unreachable, `cannot reach the daemon at ${target.url} (${reason}); is it running? (--api URL or CONSTELLATION_API_URL)`)));
    });
    socket.on('close', (code, reason) => {
      settle(() => {
        if (code === 1000 || code === 1005) resolve(ExitCode.ok);
        else {
          io.stderr.write(`stream closed by the daemon (${code})${reason.length > 0 ? `: ${String(reason)}` : ''}\n`);
          resolve(ExitCode.failed);
        }
      });
    });
    void io.interrupted?.then(() => {
      settle(() => resolve(ExitCode.interrupted));
      socket.close();
    });
  });
}

/** `--filter key=value` (repeatable) into query parameters, refusing keys the stream does not know. */
export function filterQuery(filters: readonly string[], allowed: readonly string[], extra: Record<string, string | undefined> = {}): string {
  const values = new Map<string, string[]>();
  for (const filter of filters) {
    const at = filter.indexOf('=');
    const key = at > 0 ? filter.slice(0, at) : '';
    if (!allowed.includes(key) || at === filter.length - 1) {
      throw new CliError(ExitCode.invalid, `--filter ${JSON.stringify(filter)}: expected KEY=VALUE with KEY one of ${allowed.join(', ')}`);
    }
    values.set(key, [...(values.get(key) ?? []), filter.slice(at + 1)]);
  }
  const params = new URLSearchParams();
  for (const [key, list] of values) params.set(key, list.join(','));
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) params.set(key, value);
  const text = params.toString();
  return text ? `?${text}` : '';
}
