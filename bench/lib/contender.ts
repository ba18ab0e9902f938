import type { PrivateEngine } from '../../test/support/docker-engine.ts';

export type ContenderId = 'constellation' | 'swarm' | 'compose' | 'engine';

export interface ContenderContext {
  /** A fresh private engine with the test image imported, used by this contender alone. */
  readonly engine: PrivateEngine;
  readonly image: string;
  readonly replicas: number;
  /** Upper bound for one deployment; a contender that needs longer is reported as failed. */
  readonly timeoutMs: number;
  readonly log: (line: string) => void;
}

/** A contender prepared on its engine (swarm initialised, daemon listening): only deploy() is timed. */
export interface PreparedContender {
  /**
   * Deploys the replicas and resolves once all of them run. May return extra timings (seconds
   * since the deploy started) worth reporting beside the main one.
   */
  deploy(): Promise<void | { readonly extraSeconds: Readonly<Record<string, number>> }>;
  /**
   * Untimed check after deploy() resolved, e.g. that the orchestrator's own view agrees with the
   * engine's. Returns more extra timings (seconds since the deploy started); throws if it fails.
   */
  verify?(): Promise<Readonly<Record<string, number>>>;
  /** Stops whatever prepare started (processes, temp files); the engine itself is stopped by the caller. */
  dispose(): Promise<void>;
}

export interface Contender {
  readonly id: ContenderId;
  readonly title: string;
  prepare(context: ContenderContext): Promise<PreparedContender>;
}
