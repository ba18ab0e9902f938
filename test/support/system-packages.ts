import { accessSync, constants, existsSync, openSync, readSync, closeSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { runCommand } from './run-command.ts';

/** Directories where Debian puts admin binaries, which a non-login PATH may lack. */
const extraBinDirs = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Absolute path of an executable, or undefined when it is not installed. */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...extraBinDirs];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

export interface RequiredBinary {
  /** Executable name looked up on PATH. */
  readonly binary: string;
  /** Debian package that provides it. */
  readonly debianPackage: string;
  /** Extra check, e.g. "busybox must be statically linked"; returns a problem or undefined. */
  readonly problem?: (path: string) => string | undefined;
}

function canInstallWithApt(): boolean {
  return process.getuid?.() === 0 && existsSync('/etc/debian_version') && findExecutable('apt-get') !== undefined;
}

let aptUpdated = false;
/** Installs in this process run one after another (the docker and cluster setups start together). */
let aptQueue: Promise<unknown> = Promise.resolve();

const aptLockBusy = /Could not get lock|Unable to lock/;

/**
 * apt-get that waits while another apt (another test run, unattended upgrades) holds its locks,
 * instead of failing the whole run on a race: up to 10 minutes, polling every 2 s.
 */
async function aptGet(args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const deadline = Date.now() + 600_000;
  for (;;) {
    try {
      await runCommand('apt-get', ['-o', 'DPkg::Lock::Timeout=600', ...args], { env });
      return;
    } catch (error) {
      if (!(error instanceof Error) || !aptLockBusy.test(error.message) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

/**
 * Makes sure the binaries exist. As root on Debian it installs the missing packages with apt-get;
 * anywhere else it throws one error saying exactly what to install.
 */
export function ensureBinaries(required: readonly RequiredBinary[]): Promise<void> {
  const next = aptQueue.then(() => ensureBinariesNow(required));
  aptQueue = next.catch(() => undefined);
  return next;
}

async function ensureBinariesNow(required: readonly RequiredBinary[]): Promise<void> {
  const missing = required.filter((r) => {
    const path = findExecutable(r.binary);
    return path === undefined || r.problem?.(path) !== undefined;
  });
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((r) => r.debianPackage))];
  if (!canInstallWithApt()) {
    const what = missing.map((r) => {
      const path = findExecutable(r.binary);
      return path === undefined ? `${r.binary} (not found)` : `${r.binary} (${r.problem?.(path)})`;
    });
    throw new Error(
      `missing ${what.join(', ')}: install them (Debian/Ubuntu: \`apt-get install -y ${packages.join(' ')}\`) ` +
        'and run the Docker tests as root, which can start private dockerd instances',
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    await aptGet(['update'], env);
    aptUpdated = true;
  }
  await aptGet(['install', '-y', '--no-install-recommends', ...packages], env);
  for (const r of missing) {
    const path = findExecutable(r.binary);
    if (path === undefined) throw new Error(`installed ${r.debianPackage} but ${r.binary} is still not on PATH`);
    const problem = r.problem?.(path);
    if (problem !== undefined) throw new Error(`installed ${r.debianPackage} but ${r.binary}: ${problem}`);
  }
}

/** True when the ELF file has no program interpreter, i.e. runs without a libc in the image. */
export function isStaticElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(64);
    readSync(fd, header, 0, 64, 0);
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2) return false; // not ELF64
    const programHeaderOffset = Number(header.readBigUInt64LE(0x20));
    const entrySize = header.readUInt16LE(0x36);
    const entryCount = header.readUInt16LE(0x38);
    const table = Buffer.alloc(entrySize * entryCount);
    readSync(fd, table, 0, table.length, programHeaderOffset);
    const PT_INTERP = 3;
    for (let i = 0; i < entryCount; i++) {
      if (table.readUInt32LE(i * entrySize) === PT_INTERP) return false;
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

export const dockerEngineBinaries: readonly RequiredBinary[] = [
  { binary: 'dockerd', debianPackage: 'docker.io' },
  { binary: 'docker', debianPackage: 'docker.io' },
  {
    binary: 'busybox',
    debianPackage: 'busybox-static',
    problem: (path) => (isStaticElf(path) ? undefined : 'is dynamically linked; the test image needs busybox-static'),
  },
  { binary: 'nsenter', debianPackage: 'util-linux' },
  { binary: 'ip', debianPackage: 'iproute2' },
];

/** Headless Chromium for the browser tests, from Debian (no browser download: there is no internet). */
export const chromiumBinaries: readonly RequiredBinary[] = [{ binary: 'chromium', debianPackage: 'chromium' }];

/**
 * The browser itself rather than Debian's /usr/bin/chromium wrapper script (which only adds flags
 * from /etc/chromium.d and prints shell noise on some systems).
 */
export function chromiumExecutable(): string {
  const direct = '/usr/lib/chromium/chromium';
  if (existsSync(direct)) return direct;
  const found = findExecutable('chromium');
  if (!found) throw new Error('chromium is not installed: apt-get install -y chromium');
  return found;
}
