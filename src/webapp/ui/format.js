// Formatting of times, durations and byte counts for the web UI (the browser's locale).

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** "3 Mar 2026, 14:05:09" from milliseconds since the epoch; '' for null. */
export function dateTime(ms) {
  return Number.isFinite(ms) ? timeFormat.format(new Date(ms)) : '';
}

/** "12 s ago", "5 min ago", "3 h ago", or the date for older times. */
export function ago(ms, now = Date.now()) {
  if (!Number.isFinite(ms)) return '';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return dateTime(ms);
}

/** "1 h 02 min", "4 min 09 s", "12 s". */
export function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const pad = (n) => String(n).padStart(2, '0');
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
  return `${s} s`;
}

/** "980 B", "1.2 kB", "34.5 MB", "1.1 GB". */
export function bytes(n) {
  if (!Number.isFinite(n) || n < 0) return '';
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let unit = '';
  for (const u of units) {
    v /= 1000;
    unit = u;
    if (v < 1000) break;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${unit}`;
}

export const PROTOCOL_NAMES = { rdp: 'RDP', vnc: 'VNC', ssh: 'SSH' };
export const protocolName = (p) => PROTOCOL_NAMES[p] ?? String(p ?? '').toUpperCase();
