import Dockerode from 'dockerode';
import type { Readable } from 'node:stream';
import {
  type ContainerRuntime,
  type ContainerSummary,
  type CreateContainerRequest,
  type NetworkCreateRequest,
  type NetworkSummary,
  RuntimeError,
  type RuntimeEvent,
  type RuntimeEventSubscription,
} from '../../seams/container-runtime.ts';
import { summaryFromInspect, summaryFromListing } from './container-summary.ts';
import { toCreateOptions, toEndpointSettings, toNetworkCreateOptions } from './create-options.ts';
import { dockerOptionsFor } from './docker-host.ts';
import { engineMessage, engineStatusCode, toRuntimeError } from './errors.ts';
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
 * - ensureNetwork: an existing network with the owner's labels is reused, also after losing a
 *   race with a concurrent create; removeNetwork: a missing network returns normally.
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
    let id: string;
    try {
      id = (await this.docker.createContainer(toCreateOptions(request))).id;
    } catch (error) {
      // On create, 404 means the image or a network is missing; the engine's message says which.
      const notFoundCode = /network .*not found/i.test(engineMessage(error)) ? 'network_not_found' : 'image_not_found';
      throw toRuntimeError('create', error, { subject: request.name, notFoundCode });
    }
    // The first network was joined at create; the others before the first start, as Compose does.
    for (const attachment of (request.networkMode === undefined ? request.networks ?? [] : []).slice(1)) {
      try {
        await this.docker.getNetwork(attachment.name).connect({ Container: id, EndpointConfig: toEndpointSettings(attachment) });
      } catch (error) {
        // Half-connected is not what was asked for: take the container away again.
        await this.remove(id).catch(() => undefined);
        const notFoundCode = engineStatusCode(error) === 404 && /network/i.test(engineMessage(error)) ? 'network_not_found' : 'not_found';
        throw toRuntimeError('connect_network', error, { subject: `${request.name} to ${attachment.name}`, notFoundCode });
      }
    }
    return id;
  }

  async ensureNetwork(request: NetworkCreateRequest): Promise<NetworkSummary> {
    const existing = await this.inspectNetwork(request.name);
    if (existing) return this.ownedOrConflict(existing, request);
    try {
      const network = await this.docker.createNetwork(toNetworkCreateOptions(request));
      return { id: network.id, name: request.name, driver: request.driver, labels: { ...request.labels } };
    } catch (error) {
      // A concurrent create won: take its network if it is ours.
      if (engineStatusCode(error) === 409) {
        const raced = await this.inspectNetwork(request.name);
        if (raced) return this.ownedOrConflict(raced, request);
      }
      throw toRuntimeError('create_network', error, { subject: request.name });
    }
  }

  async listNetworks(labels: Readonly<Record<string, string>>): Promise<NetworkSummary[]> {
    const labelFilters = Object.entries(labels).map(([key, value]) => `${key}=${value}`);
    try {
      const rows = await this.docker.listNetworks(labelFilters.length > 0 ? { filters: { label: labelFilters } } : {});
      return rows.map((row) => ({ id: row.Id, name: row.Name, driver: row.Driver, labels: { ...row.Labels } }));
    } catch (error) {
      throw toRuntimeError('list_networks', error);
    }
  }

  async removeNetwork(id: string): Promise<void> {
    try {
      await this.docker.getNetwork(id).remove();
    } catch (error) {
      const status = engineStatusCode(error);
      if (status === 404) return;
      // Containers still attached: engines answer 403 ("has active endpoints") or 409.
      if (status === 403 || status === 409) throw new RuntimeError('conflict', 'remove_network', `docker remove_network ${id}: ${engineMessage(error)} (HTTP ${status})`, { cause: error });
      throw toRuntimeError('remove_network', error, { subject: id });
    }
  }

  private async inspectNetwork(name: string): Promise<NetworkSummary | undefined> {
    try {
      const info = await this.docker.getNetwork(name).inspect() as { Id: string; Name: string; Driver: string; Labels?: Record<string, string> | null };
      // Lookups also match an id prefix; only the exact name is the network asked for.
      if (info.Name !== name) return undefined;
      return { id: info.Id, name: info.Name, driver: info.Driver, labels: { ...info.Labels } };
    } catch (error) {
      if (engineStatusCode(error) === 404) return undefined;
      throw toRuntimeError('inspect_network', error, { subject: name });
    }
  }

  private ownedOrConflict(network: NetworkSummary, request: NetworkCreateRequest): NetworkSummary {
    const owned = Object.entries(request.ownerLabels).every(([key, value]) => network.labels[key] === value);
    if (owned) return network;
    throw new RuntimeError('conflict', 'create_network',
      `network "${request.name}" already exists on this engine and is not this stack's (labels ${JSON.stringify(network.labels)}); remove or rename it, or declare it "external: true" to share it`);
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

  async pause(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).pause();
    } catch (error) {
      // 409 "is already paused" is what was asked for.
      if (engineStatusCode(error) === 409 && /already paused/i.test(engineMessage(error))) return;
      throw toRuntimeError('pause', error, { subject: id });
    }
  }

  async unpause(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).unpause();
    } catch (error) {
      if (engineStatusCode(error) === 409 && /not paused/i.test(engineMessage(error))) return;
      throw toRuntimeError('unpause', error, { subject: id });
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
