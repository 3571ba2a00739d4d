// Admin: groups of users, with the DLP settings their members get.
import { get } from '../api.js';
import { DLP_LABELS } from './form.js';
import { byText, optionsOf, resourcePage } from './resource.js';

/** "Block: Audio, Printing · Allow: File upload", or "Nothing set". */
export function dlpSummary(dlp) {
  const allow = [];
  const block = [];
  for (const [key, label] of Object.entries(DLP_LABELS)) {
    if (dlp?.[key] === true) allow.push(label);
    else if (dlp?.[key] === false) block.push(label);
  }
  const parts = [];
  if (block.length) parts.push(`Block: ${block.join(', ')}`);
  if (allow.length) parts.push(`Allow: ${allow.join(', ')}`);
  return parts.join(' · ') || 'Nothing set';
}

const userLabel = (u) => (u.displayName ? `${u.displayName} (${u.username})` : u.username);

export const render = resourcePage({
  title: 'Groups',
  noun: 'group',
  base: '/api/admin/groups',
  testid: 'groups',
  label: (g) => g.name,
  sort: byText('name'),
  empty: 'No groups yet.',
  refs: async () => ({ users: (await get('/api/admin/users')).items ?? [] }),
  columns: [
    { label: 'Name', cell: (g) => g.name },
    { label: 'Members', cell: (g) => String(g.memberIds?.length ?? 0) },
    { label: 'Data loss prevention', cell: (g) => dlpSummary(g.dlp) },
  ],
  fields: (refs) => [
    { name: 'name', label: 'Name', kind: 'text', required: true },
    {
      name: 'memberIds',
      label: 'Members',
      kind: 'checklist',
      options: () => optionsOf([...refs.users].sort(byText('username')), userLabel),
      empty: 'No users yet.',
    },
    {
      name: 'dlp',
      label: 'Data loss prevention for members',
      kind: 'dlp',
      hint: 'Not set: the default applies. A server’s own settings can restrict further.',
    },
  ],
});
