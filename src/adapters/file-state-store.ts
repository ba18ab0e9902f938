import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClientRequest, CommandResult } from '../cluster/commands.ts';
import { ClusterState, type ClusterStateData } from '../cluster/state.ts';
import type { StateStore } from '../seams/state-store.ts';
import { realSyncHooks } from './raft-wal/sync-hooks.ts';

/**
 * The steps durability rests on, as a seam (as the WAL has): a missing or misplaced fsync changes
 * nothing a test can read back — the page cache survives SIGKILL — so only the order of these
 * calls, relative to each other and to the acknowledgement, can show it.
 */
export interface StateFileHooks {
  /** fsync of the temporary file once the whole new state is written to it. */
  readonly fsyncFile: (handle: FileHandle, file: string) => Promise<void>;
  /** The atomic replace of the state file by the temporary one. */
  readonly rename: (from: string, to: string) => Promise<void>;
  /** fsync of the data directory, which makes the rename itself durable. */
  readonly fsyncDirectory: (dir: string) => Promise<void>;
}

export const realStateFileHooks: StateFileHooks = {
  fsyncFile: realSyncHooks.fsyncFile,
  rename: (from, to) => rename(from, to),
  fsyncDirectory: realSyncHooks.fsyncDirectory,
};

export type FileStateStoreErrorCode = 'state_corrupt' | 'state_not_open' | 'state_closed' | 'state_write_failed';

export class FileStateStoreError extends Error {
  constructor(
    readonly code: FileStateStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FileStateStoreError';
  }
}

const HEADER_PREFIX = 'constellation-state v1';
export const STATE_FILE_NAME = 'state.json';

/**
 * Desired state of a single node, in one file under the data directory.
 *
 * Durability: `submit` applies the request to a copy of the state, writes the whole state to a
 * temporary file, fsyncs it, renames it over the old file and fsyncs the directory — only then
 * does it swap the in-memory state and resolve. A crash at any moment leaves either the old or
 * the new file, never a mix, so an acknowledged request is never lost. Submits are serialized
 * through a queue so two writers never interleave.
 *
 * Integrity: the file starts with a header line holding the body's length and sha256. A file that
 * does not match (torn by a disk that lied about fsync, edited by hand, truncated) makes `open`
 * fail with `state_corrupt` instead of silently starting empty — an empty start would remove
 * every deployed container.
 */
export class FileStateStore implements StateStore {
  readonly path: string;
  private state: ClusterState | undefined;
  private readonly listeners = new Set<(state: Readonly<ClusterStateData>) => void>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly hooks: StateFileHooks;

  constructor(readonly dataDir: string, options: { readonly hooks?: Partial<StateFileHooks> } = {}) {
    this.path = join(dataDir, STATE_FILE_NAME);
    this.hooks = { ...realStateFileHooks, ...options.hooks };
  }

  /** Loads the persisted state (empty when there is no file yet). Calling it again is a no-op. */
  async open(): Promise<void> {
    if (this.state) return;
    await mkdir(this.dataDir, { recursive: true });
    // A leftover temporary file is a write that never got acknowledged: drop it.
    await rm(`${this.path}.tmp`, { force: true });
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        this.state = new ClusterState();
        return;
      }
      throw error;
    }
    this.state = new ClusterState(decodeStateFile(text, this.path));
  }

  current(): Readonly<ClusterStateData> {
    return this.opened().view();
  }

  submit(request: ClientRequest): Promise<CommandResult> {
    const run = async (): Promise<CommandResult> => {
      if (this.closed) throw new FileStateStoreError('state_closed', 'the state store is closed');
      const current = this.opened();
      const next = ClusterState.restore(current.snapshot());
      const result = next.apply(current.appliedIndex + 1, request);
      await this.writeAtomically(encodeStateFile(next.view()));
      this.state = next;
      for (const listener of this.listeners) {
        try {
          listener(next.view());
        } catch {
          // A listener's failure is its own; the write is durable and acknowledged regardless.
        }
      }
      return result;
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  subscribe(listener: (state: Readonly<ClusterStateData>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Waits for queued submits to finish; later submits are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    this.listeners.clear();
  }

  private opened(): ClusterState {
    if (!this.state) throw new FileStateStoreError('state_not_open', `state store ${this.path} is not open: call open() first`);
    return this.state;
  }

  private async writeAtomically(content: string): Promise<void> {
    const tmp = `${this.path}.tmp`;
    try {
      const file = await open(tmp, 'w', 0o600);
      try {
        await file.writeFile(content, 'utf8');
        // Before the rename: otherwise a power cut could leave the new name on an empty file.
        await this.hooks.fsyncFile(file, tmp);
      } finally {
        await file.close();
      }
      await this.hooks.rename(tmp, this.path);
      // The rename is durable only once the directory entry is on disk; only then is it acknowledged.
      await this.hooks.fsyncDirectory(this.dataDir);
    } catch (error) {
      throw new FileStateStoreError('state_write_failed', `could not write ${this.path}: ${(error as Error).message}`, { cause: error });
    }
  }
}

export function encodeStateFile(state: Readonly<ClusterStateData>): string {
  const body = JSON.stringify(state);
  return `${HEADER_PREFIX} length=${Buffer.byteLength(body, 'utf8')} sha256=${sha256(body)}\n${body}`;
}

export function decodeStateFile(text: string, path: string): ClusterStateData {
  const corrupt = (why: string) =>
    new FileStateStoreError(
      'state_corrupt',
      `state file ${path} is corrupt (${why}). Refusing to start with empty state, which would remove every deployed container. ` +
        'Restore the file from a backup, or move it away to start from scratch on purpose.',
    );
  const newline = text.indexOf('\n');
  if (newline < 0) throw corrupt('no header line');
  const header = /^constellation-state v1 length=(\d+) sha256=([0-9a-f]{64})$/.exec(text.slice(0, newline));
  if (!header) throw corrupt('unrecognized header');
  const body = text.slice(newline + 1);
  if (Buffer.byteLength(body, 'utf8') !== Number(header[1])) throw corrupt(`length ${Buffer.byteLength(body, 'utf8')} instead of ${header[1]}`);
  if (sha256(body) !== header[2]) throw corrupt('checksum mismatch');
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (error) {
    throw corrupt(`invalid JSON: ${(error as Error).message}`);
  }
  const problem = shapeProblem(data);
  if (problem) throw corrupt(problem);
  return data as ClusterStateData;
}

/** A checksum only proves the bytes are the ones written; this catches a file of another shape. */
function shapeProblem(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'the body is not an object';
  const record = data as Record<string, unknown>;
  if (typeof record.appliedIndex !== 'number' || !Number.isInteger(record.appliedIndex) || record.appliedIndex < 0) return 'appliedIndex is not a non-negative integer';
  for (const key of ['stacks', 'nodes', 'kv', 'sessions']) {
    const value = record[key];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${key} is not an object`;
  }
  return undefined;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
