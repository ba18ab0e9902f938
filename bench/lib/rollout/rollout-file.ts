/**
 * The service bench:rollout updates, the same file for every contender: 4 busybox httpd replicas
 * publishing 8080 (ingress: Swarm's routing mesh, our forwarders), a healthcheck so an update
 * waits for health, `order: start-first` (everything else at Swarm's defaults, which are ours),
 * and a 32 MiB file for the forwarder's bulk throughput. `version` flips an environment variable
 * and a container label, so v2 replaces every replica and the engines tell the versions apart.
 */
export const PUBLISHED_PORT = 8080;
export const REPLICAS = 4;
export const versionLabel = 'bench.version';

const serve = 'mkdir -p /tmp/www && cp /www/index.html /tmp/www/ && dd if=/dev/zero of=/tmp/www/big bs=1048576 count=32 2>/dev/null && touch /tmp/www/ready && exec httpd -f -p 80 -h /tmp/www';

export function rolloutComposeFile(image: string, version: number): string {
  return [
    'version: "3.8"',
    'services:',
    '  web:',
    `    image: ${image}`,
    `    command: ["sh", "-c", ${JSON.stringify(serve)}]`,
    `    environment: { BENCH_VERSION: "${version}" }`,
    `    labels: { ${versionLabel}: "${version}" }`,
    `    ports: ["${PUBLISHED_PORT}:80"]`,
    '    healthcheck: { test: ["CMD", "test", "-f", "/tmp/www/ready"], interval: 1s, timeout: 1s, retries: 1 }',
    '    stop_grace_period: 10s',
    '    deploy:',
    `      replicas: ${REPLICAS}`,
    '      update_config: { parallelism: 1, order: start-first }',
    '',
  ].join('\n');
}
