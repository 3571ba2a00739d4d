// Shared by the .rdp tests: a default input, DLP policies, and a strict reader of .rdp text.
import assert from 'node:assert/strict';
import type { RdpFileInput } from '../../src/webapp/rdp-file/build.js';
import { DLP_KEYS, type DlpPolicy } from '../../src/webapp/store/types.js';

export const ALL_ON: DlpPolicy = Object.fromEntries(DLP_KEYS.map((k) => [k, true])) as unknown as DlpPolicy;
export const ALL_OFF: DlpPolicy = Object.fromEntries(DLP_KEYS.map((k) => [k, false])) as unknown as DlpPolicy;
export const TOKEN = 'Tok3n-abcdefghijklmnopqrstuvwxyz_0123456789A'; // 44 characters

export const input = (over: Partial<RdpFileInput> = {}): RdpFileInput => ({
  gatewayAddress: 'gw.example.com:3389',
  token: TOKEN,
  serverName: 'Accounting PC',
  dlp: ALL_ON,
  ...over,
});

/** "name:type" -> value; asserts every line is a setting and no setting repeats. */
export function settings(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    if (line === '') continue;
    const m = /^([a-z0-9 ._-]+):([sib]):(.*)$/.exec(line);
    assert.ok(m, `not a setting: ${JSON.stringify(line)}`);
    const key = `${m[1]}:${m[2]}`;
    assert.ok(!out.has(key), `duplicate ${key}`);
    out.set(key, m[3] as string);
  }
  return out;
}
