/**
 * `volumes:` and `tmpfs:` → VolumeSpec[].
 * Short form [SOURCE:]TARGET[:MODE]: a SOURCE starting with "/", "." or "~" is a bind mount
 * (relative paths resolve against the working directory, "~" against the home directory);
 * any other SOURCE names a volume that must be declared under the top-level `volumes:`; no
 * SOURCE is an anonymous volume. MODE "ro"/"rw" sets readOnly; other mode flags (z, Z, nocopy,
 * consistency) are reported as not honoured rather than dropped silently.
 * Long form: { type: volume|bind|tmpfs, source, target, read_only }; types cluster, npipe and
 * image are refused, and per-type option blocks (bind:, volume:, tmpfs:, image:) are warned about.
 */
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { composeCodes } from './compose-codes.ts';
import type { NormalizeContext } from './normalize-context.ts';
import type { VolumeSpec } from './types.ts';
import type { KeyPath } from './yaml-source.ts';

export function normalizeVolumes(raw: unknown, tmpfs: unknown, ctx: NormalizeContext): VolumeSpec[] {
  const volumes: VolumeSpec[] = [];
  if (Array.isArray(raw)) {
    raw.forEach((item, index) => {
      const path = [...ctx.servicePath, 'volumes', index];
      const spec = typeof item === 'string' ? parseShortVolume(item, path, ctx) : parseLongVolume(item as Record<string, unknown>, path, ctx);
      if (spec) volumes.push(spec);
    });
  }
  const tmpfsList = typeof tmpfs === 'string' ? [tmpfs] : Array.isArray(tmpfs) ? tmpfs : [];
  tmpfsList.forEach((item: unknown, index) => {
    const path = typeof tmpfs === 'string' ? [...ctx.servicePath, 'tmpfs'] : [...ctx.servicePath, 'tmpfs', index];
    const [target, options] = String(item).split(/:(.*)/s) as [string, string | undefined];
    if (!target.startsWith('/')) {
      ctx.sink.error(path, composeCodes.invalidVolume, `tmpfs target ${JSON.stringify(target)} must be an absolute path in the container`);
      return;
    }
    if (options !== undefined && options !== '') {
      ctx.sink.warning(path, composeCodes.ignoredKey, `tmpfs options ${JSON.stringify(options)} are not honoured; the tmpfs is mounted with engine defaults`);
    }
    volumes.push({ type: 'tmpfs', target, readOnly: false });
  });
  return volumes;
}

function parseShortVolume(text: string, path: KeyPath, ctx: NormalizeContext): VolumeSpec | undefined {
  const fail = (message: string): undefined => {
    ctx.sink.error(path, composeCodes.invalidVolume, `invalid volume ${JSON.stringify(text)}: ${message}`);
    return undefined;
  };
  const parts = text.split(':');
  if (parts.length > 1 && parts[0] === '') return fail('the source is empty (is a variable in it unset?)');
  if (parts.length > 3 || parts.some((part) => part === '')) return fail('expected [SOURCE:]TARGET[:MODE]');
  if (parts.length === 1) {
    const target = parts[0]!;
    if (!target.startsWith('/')) return fail('the target must be an absolute path in the container');
    return { type: 'volume', target, readOnly: false };
  }
  const [source, target, mode] = parts as [string, string, string | undefined];
  if (!target.startsWith('/')) return fail('the target must be an absolute path in the container');
  let readOnly = false;
  for (const flag of (mode ?? '').split(',').filter((f) => f !== '')) {
    if (flag === 'ro') readOnly = true;
    else if (flag === 'rw') readOnly = false;
    else ctx.sink.warning(path, composeCodes.ignoredKey, `volume mode flag "${flag}" is not honoured`);
  }
  if (isHostPath(source)) {
    const hostPath = resolveHostPath(source, path, ctx);
    return hostPath === undefined ? undefined : { type: 'bind', source: hostPath, target, readOnly };
  }
  const volumeName = namedVolume(source, path, ctx);
  return volumeName === undefined ? undefined : { type: 'volume', source: volumeName, target, readOnly };
}

function parseLongVolume(item: Record<string, unknown>, path: KeyPath, ctx: NormalizeContext): VolumeSpec | undefined {
  const type = String(item.type);
  const target = typeof item.target === 'string' ? item.target : '';
  const fail = (message: string): undefined => {
    ctx.sink.error(path, composeCodes.invalidVolume, message);
    return undefined;
  };
  if (type !== 'volume' && type !== 'bind' && type !== 'tmpfs') {
    ctx.sink.error([...path, 'type'], composeCodes.unsupportedKey, `volume type "${type}" is not supported by Constellation (use volume, bind or tmpfs)`);
    return undefined;
  }
  if (!target.startsWith('/')) return fail('"target" must be an absolute path in the container');
  for (const key of ['bind', 'volume', 'tmpfs', 'image', 'consistency']) {
    if (item[key] !== undefined) ctx.sink.warning([...path, key], composeCodes.ignoredKey, `volume option "${key}" is not honoured; the mount uses engine defaults`);
  }
  const readOnly = item.read_only === true || item.read_only === 'true';
  const source = typeof item.source === 'string' && item.source !== '' ? item.source : undefined;
  if (type === 'tmpfs') {
    if (source !== undefined) return fail('a tmpfs mount takes no "source"');
    return { type, target, readOnly };
  }
  if (type === 'bind') {
    if (source === undefined) return fail('a bind mount needs a "source" path on the host');
    const hostPath = resolveHostPath(source, [...path, 'source'], ctx);
    return hostPath === undefined ? undefined : { type, source: hostPath, target, readOnly };
  }
  if (source === undefined) return { type, target, readOnly };
  const volumeName = namedVolume(source, [...path, 'source'], ctx);
  return volumeName === undefined ? undefined : { type, source: volumeName, target, readOnly };
}

function isHostPath(source: string): boolean {
  return source.startsWith('/') || source.startsWith('.') || source.startsWith('~');
}

function namedVolume(name: string, path: KeyPath, ctx: NormalizeContext): string | undefined {
  const engineName = ctx.declaredVolumes.get(name);
  if (engineName === undefined) {
    ctx.sink.error(path, composeCodes.undefinedVolume, `volume "${name}" is not declared under the top-level "volumes:" key`);
  }
  return engineName;
}

/** Absolute host path for a bind source; reports and returns undefined if it cannot. (env_file has its own, stricter rule: env-file-path.ts.) */
export function resolveHostPath(source: string, path: KeyPath, ctx: NormalizeContext): string | undefined {
  if (source === '~' || source.startsWith('~/')) return resolve(ctx.homeDir ?? homedir(), `.${source.slice(1)}`);
  if (isAbsolute(source)) return source;
  if (ctx.workingDir === undefined) {
    ctx.sink.error(path, composeCodes.relativePathWithoutWorkingDir,
      `relative path ${JSON.stringify(source)} needs a working directory; load the file from disk or pass workingDir`);
    return undefined;
  }
  return resolve(ctx.workingDir, source);
}
