/**
 * Exit codes of the `constellation` command, stable so scripts can branch on them.
 * The README lists them too.
 */
export const ExitCode = {
  /** Done: the daemon stopped cleanly, the deploy converged, the command succeeded. */
  ok: 0,
  /** Failed: a deploy did not converge in time or a service failed; the daemon could not start or hit a server error. */
  failed: 1,
  /** Usage or validation error: bad flags, an unreadable or invalid compose or config file, a request the API refused (4xx). */
  invalid: 2,
  /** The daemon's API could not be reached (not running, wrong --api URL). */
  unreachable: 3,
  /** The API refused the credentials (missing or wrong --token). */
  unauthorized: 4,
  /** The named stack or service does not exist. */
  notFound: 5,
  /** Interrupted with Ctrl-C while waiting; the accepted change carries on in the daemon. */
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
