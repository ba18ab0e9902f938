export { createDockerRuntime, DockerodeRuntime } from './dockerode-runtime.ts';
export { dockerOptionsFor } from './docker-host.ts';
