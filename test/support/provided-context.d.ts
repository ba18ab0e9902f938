// Values the docker and cluster projects' global setups hand to tests through vitest's provide/inject.
import type { NetnsClusterDescription } from './netns-cluster-client.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the private dockerd's unix socket (no scheme). */
    dockerSocket: string;
    /** Locally imported busybox image: /bin has the applets, /www/index.html exists, CMD is a shell. */
    testImage: string;
    /** The cluster project's three netns nodes (attach with `new NetnsClusterClient(inject('netnsCluster'))`). */
    netnsCluster: NetnsClusterDescription;
  }
}

export {};
