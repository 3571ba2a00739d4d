// A grant as a log record: who, where and under which policy, never the connection parameters (they hold
// passwords, and pino's redact paths do not reach grant.target.params.password).
import type { SessionGrant } from '../types.js';

export interface GrantSummary {
  id: string;
  user: string;
  protocol: string;
  hostname?: string;
  port?: string;
  guacd?: string;
  policy: SessionGrant['policy'];
}

export function grantSummary(grant: SessionGrant): GrantSummary {
  const out: GrantSummary = {
    id: grant.id,
    user: grant.user,
    protocol: grant.target.protocol,
    policy: { ...grant.policy },
  };
  const { hostname, port } = grant.target.params;
  if (hostname !== undefined) out.hostname = hostname;
  if (port !== undefined) out.port = port;
  if (grant.target.guacd !== undefined) out.guacd = grant.target.guacd;
  return out;
}
