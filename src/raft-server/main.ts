import { pino } from 'pino';
import { watchRoleChanges } from './role-log.ts';
import { parseRaftServerArgs, USAGE } from './parse-args.ts';
import { startRaftMember } from './raft-member.ts';

// A stand-alone Raft member for the multi-process tests and the benchmark.
const parsed = parseRaftServerArgs(process.argv.slice(2), process.env);
if (!parsed.ok) {
  for (const error of parsed.errors) process.stderr.write(`raft-server: ${error}\n`);
  process.stderr.write(`${USAGE}\n`);
  process.exit(64);
}
const config = parsed.config;
const logger = pino({ level: config.logLevel, base: { member: config.id, pid: process.pid } }, pino.destination({ dest: 1, sync: true }));

process.on('uncaughtException', (error) => {
  logger.fatal({ err: error }, 'uncaught exception; exiting');
  process.exit(70);
});
process.on('unhandledRejection', (error) => {
  logger.fatal({ err: error }, 'unhandled rejection; exiting');
  process.exit(70);
});

let member;
try {
  member = await startRaftMember(config, logger);
} catch (error) {
  const code = (error as { code?: string }).code;
  logger.fatal({ err: error, code }, `raft member ${config.id} refused to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(code?.startsWith('WAL_') ? 65 : 1);
}
const running = member;
const stopWatching = watchRoleChanges(running.node, logger);
logger.info({ clientPort: config.clientPort, raftAddress: config.peers[config.id], lastLogIndex: running.node.status().lastLogIndex }, 'raft member ready');

let stopping = false;
const shutdown = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping raft member');
  stopWatching();
  running.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      logger.error({ err: error }, 'error while stopping');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
