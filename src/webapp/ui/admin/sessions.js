// Admin: active sessions (who is connected to what, through which proxy), refreshed every 5 s while the
// page is visible; "End session" closes one.
import { bytes, dateTime, duration } from '../format.js';
import { resourcePage } from './resource.js';

const who = (s) => s.userName || s.userId;
const where = (s) => s.serverName || s.serverId;

export const render = resourcePage({
  title: 'Active sessions',
  noun: 'session',
  base: '/api/admin/sessions',
  list: '/api/admin/sessions?active=1',
  testid: 'sessions',
  intro: 'Sessions open now. The list is refreshed every 5 seconds.',
  label: (s) => `${who(s)} on ${where(s)}`,
  sort: (a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0),
  empty: 'No active sessions.',
  poll: 5000,
  columns: [
    { label: 'User', cell: who },
    { label: 'Server', cell: where },
    { label: 'Proxy', cell: (s) => s.proxyName || s.proxyId },
    { label: 'Started', cell: (s) => `${dateTime(s.startedAt)} (${duration(Date.now() - s.startedAt)})` },
    { label: 'Sent / received', cell: (s) => `${bytes(s.bytesUp ?? 0)} / ${bytes(s.bytesDown ?? 0)}` },
    { label: 'Client address', cell: (s) => s.clientAddress ?? '' },
  ],
  remove: {
    label: 'End session',
    confirm: (s) => `End the session of ${who(s)} on ${where(s)}? They are disconnected at once.`,
    done: (s) => `Ended the session of ${who(s)} on ${where(s)}`,
  },
});
