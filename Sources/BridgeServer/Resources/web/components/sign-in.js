// The sign-in form: e-mail and password to POST /api/v1/auth/session, which sets the HttpOnly
// session cookie. Errors are shown in words (429 with the wait from Retry-After).
import { api } from '../api.js';
import { el } from '../dom.js';
import { t } from '../i18n.js';

export class SignInForm extends HTMLElement {
  connectedCallback() {
    this.render();
  }

  /** A note above the form (e.g. "your session ended"). */
  set notice(text) { this._notice = text; if (this.isConnected) this.render(); }

  render() {
    const email = el('input', { attrs: { id: 'signin-email', type: 'email', name: 'email', autocomplete: 'username', required: true } });
    const password = el('input', { attrs: { id: 'signin-password', type: 'password', name: 'password', autocomplete: 'current-password', required: true } });
    const error = el('p', { class: 'form-error', attrs: { role: 'alert' } });
    const submit = el('button', { class: 'primary', text: t('signin.submit'), attrs: { type: 'submit' } });
    const form = el('form', { class: 'signin-form', attrs: { 'aria-labelledby': 'signin-title', novalidate: true } },
      el('h1', { text: t('signin.title'), attrs: { id: 'signin-title' } }),
      this._notice ? el('p', { class: 'form-notice', text: this._notice }) : null,
      el('label', { text: t('signin.email'), attrs: { for: 'signin-email' } }), email,
      el('label', { text: t('signin.password'), attrs: { for: 'signin-password' } }), password,
      error, submit);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      submit.disabled = true;
      submit.textContent = t('signin.busy');
      try {
        const session = await api.signIn(email.value.trim(), password.value);
        password.value = '';
        this.dispatchEvent(new CustomEvent('signed-in', { bubbles: true, detail: session }));
      } catch (failure) {
        error.textContent = SignInForm.explain(failure);
        password.select();
      } finally {
        submit.disabled = false;
        submit.textContent = t('signin.submit');
      }
    });
    this.replaceChildren(el('div', { class: 'signin-card' }, el('div', { class: 'brand', text: t('app.title') }), form));
    queueMicrotask(() => email.focus());
  }

  static explain(failure) {
    switch (failure.status) {
      case 400:
      case 401: return t('signin.wrong');
      case 429: return t('signin.throttled', { minutes: Math.max(1, Math.ceil((failure.retryAfter ?? 60) / 60)) });
      case 503: return t('signin.unavailable');
      case 0: return t('signin.network');
      default: return t('signin.failed', { message: failure.message });
    }
  }
}
customElements.define('sign-in-form', SignInForm);
