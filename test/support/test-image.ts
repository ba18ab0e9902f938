import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker } from './docker-engine.ts';
import { findExecutable, isStaticElf } from './system-packages.ts';
import { runCommand } from './run-command.ts';

/** The image every Docker test and benchmark uses; no registry is reachable, so it is imported. */
export const TEST_IMAGE = 'constellation-test/busybox:1';

/** Body of /www/index.html, so a test can check that httpd serves the file. */
export const TEST_IMAGE_INDEX_HTML = 'constellation test image\n';

/**
 * Imports the busybox-static test image into an engine (no-op when it is there already):
 * /bin/busybox with every applet linked beside it, /www/index.html for `httpd -f -p 80 -h /www`,
 * /tmp, and `CMD ["/bin/sh"]`.
 */
export async function ensureTestImage(dockerHost: string, image: string = TEST_IMAGE): Promise<string> {
  const present = await docker(dockerHost, ['image', 'inspect', '--format', '{{.Id}}', image]).then(
    () => true,
    () => false,
  );
  if (present) return image;
  const busybox = findExecutable('busybox');
  if (busybox === undefined || !isStaticElf(busybox)) {
    throw new Error('the test image needs a static busybox: install busybox-static (Debian: apt-get install -y busybox-static)');
  }
  const rootfs = mkdtempSync(join(tmpdir(), 'cst-rootfs-'));
  try {
    for (const dir of ['bin', 'www', 'tmp', 'etc']) mkdirSync(join(rootfs, dir));
    chmodSync(join(rootfs, 'tmp'), 0o1777);
    copyFileSync(busybox, join(rootfs, 'bin', 'busybox'));
    chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
    const { stdout } = await runCommand(busybox, ['--list']);
    for (const applet of stdout.split('\n').map((line) => line.trim())) {
      if (applet !== '' && applet !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', applet));
    }
    writeFileSync(join(rootfs, 'www', 'index.html'), TEST_IMAGE_INDEX_HTML);
    // httpd and `id` look users up; a minimal passwd/group keeps them quiet.
    writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
    writeFileSync(join(rootfs, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
    const tar = spawn('tar', ['-C', rootfs, '--numeric-owner', '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const tarDone = new Promise<void>((resolve, reject) => {
      tar.on('error', reject);
      tar.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar of the test rootfs exited with ${code}`))));
    });
    await Promise.all([docker(dockerHost, ['import', '--change', 'CMD ["/bin/sh"]', '-', image], tar.stdout), tarDone]);
    return image;
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}
