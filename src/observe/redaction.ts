/**
 * What must never leave the daemon through the inspector or the event stream: environment values
 * (a compose file's `environment`, a container request's `env`), anything under a key that names
 * a credential, join tokens, and the daemon's own secrets wherever they appear (the API token, the
 * cluster secret). Names are kept — a viewer may see that `DB_PASSWORD` is set, never its value.
 */
export const REDACTED = '<redacted>';

/** Keys whose whole value is a credential. Matched on the key name, case-insensitively. */
const secretKey = /token|secret|passw(or)?d|passphrase|credential|authorization|api[-_]?key|private[-_]?key|cookie|seal|proof|nonce/i;

/** Keys holding environment variables: the names stay, every value goes. */
const envKey = /^(env|environment|envs|variables|dotenv)$/i;

/** Join tokens have a recognisable shape; a token pasted into any string is scrubbed. */
const joinTokenShape = /CST1-[0-9a-f]{16}-[MW]\d+-[a-z2-7]{8,}-[0-9a-f]{8}/gi;

export interface Redactor {
  /** The value to show for `value` found under `key` (undefined key: an array element or the root). */
  redactString(value: string): string;
  isSecretKey(key: string): boolean;
  isEnvKey(key: string): boolean;
}

/**
 * `knownSecrets` are exact values to scrub from every string (the API token, the cluster secret):
 * a secret that ends up inside a message or an error text is caught by value, not only by key.
 */
export function createRedactor(knownSecrets: readonly string[] = []): Redactor {
  // Short values would scrub innocent text; real secrets here are long random strings.
  const secrets = knownSecrets.filter((secret) => secret.length >= 8);
  return {
    redactString: (value) => {
      let out = value.includes('CST1-') ? value.replace(joinTokenShape, REDACTED) : value;
      for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
      return out;
    },
    isSecretKey: (key) => secretKey.test(key),
    isEnvKey: (key) => envKey.test(key),
  };
}

/** `KEY=value` (a Docker-style env entry) keeps its name only. */
export function redactEnvEntry(entry: string): string {
  const at = entry.indexOf('=');
  return at < 0 ? entry : `${entry.slice(0, at)}=${REDACTED}`;
}
