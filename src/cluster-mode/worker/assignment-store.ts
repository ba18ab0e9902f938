import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { ClientRequest, CommandResult } from '../../cluster/commands.ts';
import type { ClusterStateData } from '../../cluster/state.ts';
import type { StateStore } from '../../seams/state-store.ts';
import type { ManagerFrame, WorkerStack } from './session-protocol.ts';
import { WorkerAssignments } from './worker-assignments.ts';

export function assignmentsPath(dataDir: string): string {
  return join(dataDir, 'cluster', 'assignments.json');
}

/** Where the assignments are kept between runs: a file in the data dir, or the simulator's memory. */
export interface AssignmentFile {
  readonly location: string;
  /** The saved text; undefined when nothing was saved yet. */
  read(): Promise<string | undefined>;
  /** Replaces the saved text atomically and durably. */
  replace(text: string): Promise<void>;
}

export function assignmentFileIn(dataDir: string): AssignmentFile {
  const path = assignmentsPath(dataDir);
  return {
    location: path,
    read: async () => {
      try {
        return await readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    // Atomic replace (tmp, fsync, rename): a crash leaves the old or the new list.
    replace: async (text) => {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const tmp = `${path}.tmp`;
      const file = await open(tmp, 'w', 0o600);
      try {
        await file.writeFile(text, 'utf8');
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, path);
    },
  };
}

/**
 * The worker's desired state: the assignments its session delivered, kept on disk so a worker
 * that restarts — also with no manager reachable — adopts and keeps running what it ran, as a
 * manager's agent does from its log. Read-only for the agent: a worker writes nothing itself.
 */
export class AssignmentStore implements StateStore {
  private readonly listeners = new Set<(state: Readonly<ClusterStateData>) => void>();
  private assignments = new WorkerAssignments();
  private view: ClusterStateData = this.assignments.view();
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  private readonly file: AssignmentFile;

  constructor(dataDir: string | AssignmentFile, private readonly logger: Logger) {
    this.file = typeof dataDir === 'string' ? assignmentFileIn(dataDir) : dataDir;
  }

  async open(): Promise<void> {
    const text = await this.file.read();
    if (text === undefined) return;
    let stacks: WorkerStack[];
    try {
      const parsed = JSON.parse(text) as { version?: unknown; stacks?: unknown };
      if (parsed.version !== 1 || !Array.isArray(parsed.stacks)) throw new Error('not {version: 1, stacks: []}');
      stacks = parsed.stacks as WorkerStack[];
    } catch (error) {
      // Only a cache of what the managers hold: start empty and let the session refill it.
      this.logger.warn({ file: this.file.location, err: error }, 'saved worker assignments unreadable; waiting for a manager to send them');
      return;
    }
    this.assignments = new WorkerAssignments(stacks);
    this.view = this.assignments.view();
  }

  current(): Readonly<ClusterStateData> {
    return this.view;
  }

  /** Applies an `assign` frame from the session; persists and notifies when anything changed. */
  apply(frame: Extract<ManagerFrame, { t: 'assign' }>): void {
    if (this.closed || !this.assignments.apply(frame)) return;
    this.view = this.assignments.view();
    const stacks = this.assignments.list();
    this.writing = this.writing.then(() => this.persist(stacks)).catch((error: unknown) => this.logger.warn({ err: error }, 'could not save the worker assignments'));
    for (const listener of this.listeners) listener(this.view);
  }

  submit(_request: ClientRequest): Promise<CommandResult> {
    return Promise.resolve({ ok: false, code: 'worker_read_only', message: 'a worker holds only its assignments; writes go to the leader' });
  }

  subscribe(listener: (state: Readonly<ClusterStateData>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    await this.writing;
  }

  private persist(stacks: readonly WorkerStack[]): Promise<void> {
    return this.file.replace(JSON.stringify({ version: 1, stacks }));
  }
}
