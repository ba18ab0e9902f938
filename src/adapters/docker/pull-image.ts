import type Dockerode from 'dockerode';
import type { Readable } from 'node:stream';
import { RuntimeError } from '../../seams/container-runtime.ts';
import { toRuntimeError } from './errors.ts';
import { JsonLineSplitter } from './json-lines.ts';

interface PullProgress {
  readonly status?: string;
  readonly error?: string;
  readonly errorDetail?: { readonly message?: string };
}

/** Registry answers that mean "this image does not exist (for you)", as opposed to an engine failure. */
const missingImagePattern = /not found|manifest unknown|does not exist|pull access denied|repository .* not found/i;

/**
 * Pulls an image and follows the progress stream to its end. The engine answers 200 before the
 * pull has even started and reports failures as `{"error": ...}` lines in the stream, so the
 * stream must be read to know whether the pull worked.
 */
export async function pullImage(docker: Dockerode, image: string): Promise<void> {
  let stream: Readable;
  try {
    stream = (await docker.pull(image)) as Readable;
  } catch (error) {
    throw toRuntimeError('pull', error, { subject: image, notFoundCode: 'image_not_found' });
  }
  await new Promise<void>((resolve, reject) => {
    let failure: RuntimeError | undefined;
    const splitter = new JsonLineSplitter(
      (value) => {
        const progress = value as PullProgress;
        const message = progress.errorDetail?.message ?? progress.error;
        if (message !== undefined && failure === undefined) {
          const code = missingImagePattern.test(message) ? 'image_not_found' : 'engine_error';
          failure = new RuntimeError(code, 'pull', `docker pull ${image}: ${message}`);
        }
      },
      (line) => {
        failure ??= new RuntimeError('engine_error', 'pull', `docker pull ${image}: unreadable progress line ${JSON.stringify(line.slice(0, 200))}`);
      },
    );
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      if (error !== undefined) reject(toRuntimeError('pull', error, { subject: image }));
      else if (failure !== undefined) reject(failure);
      else resolve();
    };
    stream.on('data', (chunk: Buffer) => splitter.push(chunk));
    stream.on('error', (error: Error) => settle(error));
    stream.on('end', () => {
      splitter.end();
      settle();
    });
    stream.on('close', () => {
      // 'close' without 'end' means the connection dropped mid-pull.
      if (!stream.readableEnded) settle(new Error('the engine closed the pull stream before it finished'));
    });
  });
}
