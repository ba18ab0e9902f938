import type { Logger } from 'pino';

/**
 * Last-resort logging for errors that escaped every handler. The daemon keeps running: desired
 * state is on disk and reconcilers are level-triggered, so whatever was half done is repaired on
 * the next pass, while exiting would take the API (and supervision of every workload) down.
 * Returns a function that removes the handlers (tests start several daemons in one process).
 */
export function installProcessGuards(logger: Logger): () => void {
  const onRejection = (reason: unknown) => {
    logger.error({ err: reason }, 'unhandled promise rejection (daemon keeps running)');
  };
  const onException = (error: Error) => {
    logger.error({ err: error }, 'uncaught exception (daemon keeps running)');
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
