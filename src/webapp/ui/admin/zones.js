// Admin: zones. A zone groups servers with the connection proxies that reach them.
import { byText, resourcePage, yesNo } from './resource.js';

export const render = resourcePage({
  title: 'Zones',
  noun: 'zone',
  base: '/api/admin/zones',
  testid: 'zones',
  intro: 'A zone groups servers with the connection proxies that can reach them.',
  label: (z) => z.name,
  sort: byText('name'),
  empty: 'No zones yet.',
  columns: [
    { label: 'Name', cell: (z) => z.name },
    { label: 'Uses other zones’ proxies', cell: (z) => yesNo(z.searchAlternateZones) },
  ],
  fields: () => [
    { name: 'name', label: 'Name', kind: 'text', required: true },
    {
      name: 'searchAlternateZones',
      label: 'Use proxies of other zones when none of this zone’s is healthy',
      kind: 'checkbox',
    },
  ],
});
