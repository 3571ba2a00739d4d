// Admin: users (sign-in accounts). Passwords are write-only: set on create, replaced by typing a new one.
import { byText, resourcePage, yesNo } from './resource.js';

const ROLES = [
  { value: 'user', label: 'User' },
  { value: 'admin', label: 'Administrator' },
];

export const render = resourcePage({
  title: 'Users',
  noun: 'user',
  base: '/api/admin/users',
  testid: 'users',
  label: (u) => u.username,
  sort: byText('username'),
  empty: 'No users yet.',
  columns: [
    { label: 'User name', cell: (u) => u.username },
    { label: 'Display name', cell: (u) => u.displayName ?? '' },
    { label: 'Role', cell: (u) => (u.role === 'admin' ? 'Administrator' : 'User') },
    { label: 'Disabled', cell: (u) => yesNo(u.disabled) },
  ],
  fields: () => [
    {
      name: 'username',
      label: 'User name',
      kind: 'text',
      required: true,
      createOnly: true,
      editHint: 'A user name cannot be changed.',
    },
    { name: 'displayName', label: 'Display name', kind: 'text' },
    { name: 'role', label: 'Role', kind: 'select', options: ROLES, default: 'user' },
    {
      name: 'password',
      label: 'Password',
      kind: 'password',
      required: true,
      writeOnly: true,
      editHint: 'Leave empty to keep the current password; type a new one to replace it.',
    },
    { name: 'disabled', label: 'Disabled (cannot sign in)', kind: 'checkbox' },
  ],
});
