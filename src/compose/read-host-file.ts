/**
 * Reads the few host files the compose loader needs (`.env`, `env_file`). The daemon reads them
 * on behalf of API clients, so no path may hang or exhaust it, whatever it names: a FIFO is
 * opened without blocking, only regular files up to maxEnvFileBytes are read, and exactly as many
 * bytes as the file's size are read, so pseudo-files that report size 0 (/proc/self/environ,
 * which holds the daemon's own environment) read as empty.
 */
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from 'node:fs';

export const maxEnvFileBytes = 1024 * 1024;

/** The file's text, or undefined when it is missing, unreadable, not a regular file or too large. */
export function readRegularTextFile(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > maxEnvFileBytes) return undefined;
    const buffer = Buffer.alloc(stat.size);
    let filled = 0;
    while (filled < buffer.length) {
      const read = readSync(fd, buffer, filled, buffer.length - filled, filled);
      if (read === 0) break;
      filled += read;
    }
    return buffer.subarray(0, filled).toString('utf8');
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The path with every symlink followed, or undefined when it does not exist (or cannot be resolved). */
export function realPathOf(path: string): string | undefined {
  try {
    return realpathSync.native(path);
  } catch {
    return undefined;
  }
}
