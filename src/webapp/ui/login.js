// The sign-in form. Errors in words: wrong name or password, too many attempts (with a countdown from the
// 429's Retry-After), the login session having expired.
import { ApiError, post, setCsrfToken } from './api.js';
import { errorBox, h } from './dom.js';

/**
 * Renders the form into `main`; calls onLogin({ user, csrfToken }) after a successful sign-in.
 * `notice`: a sentence shown above the form (e.g. 'Your session expired, sign in again').
 */
export function renderLogin(main, { notice = '', onLogin }) {
  const username = h('input', {
    id: 'login-username',
    name: 'username',
    type: 'text',
    autocomplete: 'username',
    autocapitalize: 'none',
    spellcheck: false,
    required: true,
    'data-testid': 'login-username',
  });
  const password = h('input', {
    id: 'login-password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    'data-testid': 'login-password',
  });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'login-submit' }, 'Sign in');
  const error = errorBox('login-error');
  let timer = null;

  const form = h(
    'form',
    { class: 'card login', 'aria-labelledby': 'login-title', novalidate: true },
    h('h1', { id: 'login-title', tabindex: -1 }, 'Sign in to Gatehouse'),
    notice ? h('p', { class: 'notice', role: 'status', 'data-testid': 'login-notice' }, notice) : null,
    error.el,
    h('div', { class: 'field' }, h('label', { for: 'login-username' }, 'User name'), username),
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, 'Password'), password),
    h('div', { class: 'actions' }, submit),
  );

  function countdown(seconds) {
    clearInterval(timer);
    let left = Math.max(1, seconds);
    submit.disabled = true;
    const tick = () => {
      if (!form.isConnected || left <= 0) {
        clearInterval(timer);
        submit.disabled = false;
        if (form.isConnected) error.set('You can try again now');
        return;
      }
      error.set(`Too many attempts — try again in ${left} s`);
      left -= 1;
    };
    tick();
    timer = setInterval(tick, 1000);
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (submit.disabled) return;
    error.clear();
    if (!username.value.trim() || !password.value) {
      error.set('Enter your user name and password');
      (username.value.trim() ? password : username).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      const result = await post('/api/login', { username: username.value.trim(), password: password.value });
      setCsrfToken(result?.csrfToken);
      password.value = '';
      onLogin(result);
      return;
    } catch (err) {
      submit.textContent = 'Sign in';
      submit.disabled = false;
      if (err instanceof ApiError && err.status === 429) {
        countdown(err.retryAfter ?? 60);
      } else if (err instanceof ApiError && err.status === 401) {
        error.set('Wrong user name or password');
        password.value = '';
        password.focus();
      } else {
        error.set(err instanceof ApiError ? err.message : 'Sign-in failed; try again');
      }
    }
  });

  main.replaceChildren(form);
  username.focus();
}
