import { readFileSync } from 'node:fs';
import { cpus, hostname, release, totalmem } from 'node:os';

/** The host half of a result's machine description; each benchmark adds its peer's versions. */
export interface HostDescription {
  readonly hostname: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly os: string;
  readonly node: string;
}

function osName(): string {
  try {
    const line = readFileSync('/etc/os-release', 'utf8').split('\n').find((l) => l.startsWith('PRETTY_NAME='));
    return line?.slice('PRETTY_NAME='.length).replace(/^"|"$/g, '') ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** What the numbers were measured on, so results from different machines are not compared blindly. */
export function describeHost(): HostDescription {
  return {
    hostname: hostname(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    os: osName(),
    node: process.version,
  };
}
