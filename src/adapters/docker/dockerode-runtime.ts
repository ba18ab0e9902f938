import Dockerode from 'dockerode';
import type { Readable } from 'node:stream';
import type {
  ContainerRuntime,
  ContainerSummary,
  CreateContainerRequest,
  RuntimeEvent,
  RuntimeEventSubscription,
} from '../../seams/container-runtime.ts';
import { summaryFromInspect, summaryFromListing } from './container-summary.ts';
import { toCreateOptions } from './create-options.ts';
import { dockerOptionsFor } from './docker-host.ts';
import { engineStatusCode, toRuntimeError } from './errors.ts';
import { EventStreamFollower } from './event-stream.ts';
import { pullImage } from './pull-image.ts';

/**
 * ContainerRuntime on a real Docker engine through dockerode.
 *
 * Idempotency, so reconcilers can repeat themselves safely:
 * - start: "already started" (304) returns normally; a missing container is RuntimeError not_found
 *   (the caller asked for something that cannot happen).
 * - stop: "already stopped" (304) and a missing container return normally: nothing runs, which
 *   is what stop asks for.
 * - remove: forced (a running container is killed) and removes anonymous volumes; a missing
 *   container or a removal already in progress returns normally: it is gone, as asked.
 * - inspect: a missing container is `undefined`, not an error.
 * Every other failure is a RuntimeError naming the operation (for the engine-errors metric).
 */
export class DockerodeRuntime implements ContainerRuntime {
  constructor(private readonly docker: Dockerode) {}

  async ping(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (error) {
      throw toRuntimeError('ping', error);
    }
  }

  async list(labels: Readonly<Record<string, string>>): Promise<ContainerSummary[]> {
    const labelFilters = Object.entries(labels).map(([key, value]) => `${key}=${value}`);
    try {
      const rows = await this.docker.listContainers({
        all: true,
        ...(labelFilters.length > 0 ? { filters: { label: labelFilters } } : {}),
      });
      return rows.map(summaryFromListing);
    } catch (error) {
      throw toRuntimeError('list', error);
    }
  }

  async inspect(id: string): Promise<ContainerSummary | undefined> {
    try {
      return summaryFromInspect(await this.docker.getContainer(id).inspect());
    } catch (error) {
      if (engineStatusCode(error) === 404) return undefined;
      throw toRuntimeError('inspect', error, { subject: id });
    }
  }

  async ensureImage(image: string): Promise<void> {
    try {
      await this.docker.getImage(image).inspect();
      return;
    } catch (error) {
      if (engineStatusCode(error) !== 404) throw toRuntimeError('inspect_image', error, { subject: image });
    }
    await pullImage(this.docker, image);
    // Some engines end a failed pull without an error line; only a present image counts.
    try {
      await this.docker.getImage(image).inspect();
    } catch (error) {
      throw toRuntimeError('pull', error, { subject: image, notFoundCode: 'image_not_found' });
    }
  }

  async create(request: CreateContainerRequest): Promise<string> {
    try {
      const container = await this.docker.createContainer(toCreateOptions(request));
      return container.id;
    } catch (error) {
      // On create, 404 can only mean the image is missing.
      throw toRuntimeError('create', error, { subject: request.name, notFoundCode: 'image_not_found' });
    }
  }

  async start(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).start();
    } catch (error) {
      if (engineStatusCode(error) === 304) return;
      throw toRuntimeError('start', error, { subject: id });
    }
  }

  async stop(id: string, gracePeriodMs: number): Promise<void> {
    try {
      // The engine takes whole seconds; round up so the grace period is never cut short.
      await this.docker.getContainer(id).stop({ t: Math.max(0, Math.ceil(gracePeriodMs / 1000)) });
    } catch (error) {
      const status = engineStatusCode(error);
      if (status === 304 || status === 404) return;
      throw toRuntimeError('stop', error, { subject: id });
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (error) {
      const status = engineStatusCode(error);
      if (status === 404) return;
      if (status === 409 && /already in progress/i.test(String((error as Error).message))) return;
      throw toRuntimeError('remove', error, { subject: id });
    }
  }

  events(onEvent: (event: RuntimeEvent) => void, onEnd: (error?: Error) => void): RuntimeEventSubscription {
    const follower = new EventStreamFollower({ onEvent, onEnd });
    this.docker.getEvents({ filters: { type: ['container'] } }).then(
      (stream) => follower.attach(stream as unknown as Readable),
      (error: unknown) => follower.fail(toRuntimeError('events', error)),
    );
    return { close: () => follower.close() };
  }
}

/** A runtime for a DOCKER_HOST-style address: `unix:///path`, `/path`, or `tcp://host:port`. */
export function createDockerRuntime(dockerHost: string): DockerodeRuntime {
  return new DockerodeRuntime(new Dockerode(dockerOptionsFor(dockerHost)));
}
