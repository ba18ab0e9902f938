import Dockerode from 'dockerode';
import { describeHost, type HostDescription } from './host.ts';

export interface MachineDescription extends HostDescription {
  readonly dockerd: string;
  readonly dockerApi: string;
  readonly storageDriver: string;
}

/** The host plus the engine the deploy benchmark ran on. */
export async function describeMachine(socketPath: string): Promise<MachineDescription> {
  const docker = new Dockerode({ socketPath });
  const [version, info] = await Promise.all([docker.version(), docker.info() as Promise<{ Driver?: string }>]);
  return { ...describeHost(), dockerd: version.Version, dockerApi: version.ApiVersion, storageDriver: info.Driver ?? 'unknown' };
}
