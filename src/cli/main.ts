// Entry point of the `constellation` command (bin/constellation.js and `npm start` load it).
import { runCli } from './program.ts';

let onInterrupt: (() => void) | undefined;
const interrupted = new Promise<void>((resolve) => { onInterrupt = resolve; });

const argv = process.argv.slice(2);
// Client commands wait on Ctrl-C; the daemon installs its own signal handling.
const firstWord = argv.find((word) => !word.startsWith('-'));
if (firstWord && ['deploy', 'rm', 'node'].includes(firstWord)) process.once('SIGINT', () => onInterrupt?.());

const exitCode = await runCli(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, interrupted });
// Exit explicitly: idle keep-alive sockets or timers must not hold a finished command open.
process.exit(exitCode);
