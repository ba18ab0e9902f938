// Values the docker project's global setup hands to tests through vitest's provide/inject.
declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the private dockerd's unix socket (no scheme). */
    dockerSocket: string;
    /** Locally imported busybox image: /bin has the applets, /www/index.html exists, CMD is a shell. */
    testImage: string;
  }
}

export {};
