/**
 * The one service every contender deploys: busybox httpd, N replicas, no published ports (so
 * replicas do not compete for a host port). `version` is there for `docker stack deploy`, which
 * still requires it in Docker 20.10; compose-spec loaders accept it as obsolete.
 */
export function benchComposeFile(image: string, replicas: number): string {
  return [
    'version: "3.8"',
    'services:',
    '  web:',
    `    image: ${image}`,
    '    command: ["httpd", "-f", "-p", "80", "-h", "/www"]',
    '    deploy:',
    `      replicas: ${replicas}`,
    '',
  ].join('\n');
}

export const benchServiceCommand = ['httpd', '-f', '-p', '80', '-h', '/www'] as const;
