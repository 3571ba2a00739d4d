// An in-process webapp for API tests on a given database, with a signed-in admin client.
import pino from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { ensureDefaultZone, ensureInitialAdmin } from '../../src/webapp/bootstrap.js';
import { type RunningWebapp, startWebapp } from '../../src/webapp/run.js';
import { ApiClient } from '../e2e/helpers/gatehouse-webapp.js';

export const ADMIN_PASSWORD = 'admin-password-1';

export interface TestWebapp {
  app: RunningWebapp;
  admin: ApiClient;
  zoneId: string;
  close(): Promise<void>;
}

export async function startTestWebapp(
  database: string,
  dataDir: string,
  set: Record<string, string> = {},
): Promise<TestWebapp> {
  process.env.GATEHOUSE_WEBAPP_CHECK_RESPONSES = '1';
  const { config } = loadConfig({
    env: {},
    flags: {
      set: [
        'webapp.listen=127.0.0.1:0',
        `webapp.database=${database}`,
        `webapp.dataDir=${dataDir}`,
        ...Object.entries(set).map(([k, v]) => `${k}=${v}`),
      ],
    },
  });
  const log = pino({ level: 'silent' });
  const app = await startWebapp(config, log, 'test');
  await ensureInitialAdmin(app.store, log, { GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD });
  const zoneId = await ensureDefaultZone(app.store);
  const admin = new ApiClient(app.url, app.tlsCertPem ?? '');
  const r = await admin.login('admin', ADMIN_PASSWORD);
  if (r.status !== 200) throw new Error(`admin sign-in: ${r.status} ${r.text}`);
  return { app, admin, zoneId, close: () => app.close() };
}
