// The configuration as text for `gatehouse config`, secrets redacted.
import { stringify } from 'yaml';
import { redactSecrets } from '../log/redact.js';
import type { ConfigFormat } from './commands/config.js';

/** YAML or JSON text with every secret-looking key redacted; the output is itself a valid config file. */
export function renderConfig(config: object, format: ConfigFormat): string {
  const safe = redactSecrets(config);
  return format === 'json' ? `${JSON.stringify(safe, null, 2)}\n` : stringify(safe);
}
