// The page an invitation link opens (/console/#/invite/<token>): the invited agent chooses a
// password (POST /api/v1/auth/invite), then signs in as usual. A view of the console's sign-in,
// shown by the app before it asks who is signed in; the token never leaves this page's memory
// (the app takes it out of the address at once).
import { request } from '../../api.js';
import { el } from '../../dom.js';
import { t, useCatalogue } from '../../i18n.js';

await useCatalogue((code) => import(`./i18n/${code}.js`).then((m) => m.default));

export class InviteForm extends HTMLElement {
  connectedCallback() {
    const password = el('input', { attrs: { id: 'invite-password', type: 'password', autocomplete: 'new-password', required: true, minlength: 8 } });
    const repeat = el('input', { attrs: { id: 'invite-repeat', type: 'password', autocomplete: 'new-password', required: true } });
    const error = el('p', { class: 'form-error', attrs: { role: 'alert' } });
    const submit = el('button', { class: 'primary', text: t('people.invite.submit'), attrs: { type: 'submit' } });
    const form = el('form', { class: 'signin-form', attrs: { 'aria-labelledby': 'invite-title', novalidate: true } },
      el('h1', { text: t('people.invite.title'), attrs: { id: 'invite-title' } }),
      el('p', { class: 'form-notice', text: t('people.invite.text') }),
      el('label', { text: t('people.newPassword'), attrs: { for: 'invite-password' } }), password,
      el('label', { text: t('people.invite.repeat'), attrs: { for: 'invite-repeat' } }), repeat,
      error, submit);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      if (password.value.length < 8) { error.textContent = t('people.invite.short'); return; }
      if (password.value !== repeat.value) { error.textContent = t('people.invite.mismatch'); return; }
      submit.disabled = true;
      try {
        await request('POST', '/api/v1/auth/invite', { token: this.token, password: password.value }, { quiet401: true });
        this.dispatchEvent(new CustomEvent('password-set', { bubbles: true }));
      } catch (failure) {
        error.textContent = failure.code === 'invite_invalid' ? t('people.invite.invalid') : t('console.failed', { message: failure.message });
        submit.disabled = false;
      }
    });
    this.replaceChildren(el('div', { class: 'signin-card' }, el('div', { class: 'brand', text: t('app.title') }), form));
    password.focus();
  }
}
customElements.define('invite-form', InviteForm);
