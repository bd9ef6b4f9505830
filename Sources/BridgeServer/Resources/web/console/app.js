// The console: the owners' and admins' pages beside the inbox, on the same sign-in, API client,
// texts and styles. The address is #/<section>/<path>; each section (sections.js) is loaded the
// first time it is opened. An agent is told the console is not theirs and pointed to the inbox; the
// API refuses them every console action anyway, so this only spares them the refusals.
import { api, UNAUTHORIZED } from '../api.js';
import { managesSettings } from '../access.js';
import { el } from '../dom.js';
import { currentLanguage, languages, onLanguageChange, setLanguage, t, useCatalogue } from '../i18n.js';
import { sections } from './sections.js';
import '../components/sign-in.js';

await useCatalogue((code) => import(`./i18n/${code}.js`).then((module) => module.default));

class ConsoleApp extends HTMLElement {
  async connectedCallback() {
    window.addEventListener(UNAUTHORIZED, () => this.showSignIn(t('signin.expired')));
    window.addEventListener('hashchange', () => this.route());
    this.addEventListener('signed-in', (event) => this.signedIn(event.detail.agent));
    this.addEventListener('navigate', (event) => this.navigate(event.detail.path, event.target));
    onLanguageChange(() => this.relabel());
    // An invitation link (#/invite/<token>): choose a password first; the token leaves the address at once.
    const invite = location.hash.match(/^#\/invite\/([^/]+)$/);
    if (invite) {
      history.replaceState(null, '', location.pathname);
      await this.showInvite(decodeURIComponent(invite[1]));
      return;
    }
    try {
      this.signedIn(await api.me());
    } catch {
      this.showSignIn();
    }
  }

  showSignIn(notice) {
    this.me = null;
    this.shell = null;
    document.title = t('app.title');
    const form = document.createElement('sign-in-form');
    if (notice) form.notice = notice;
    this.replaceChildren(el('main', { class: 'signin-page' }, form));
  }

  async showInvite(token) {
    await import('./people/invite-form.js');
    const form = document.createElement('invite-form');
    form.token = token;
    form.addEventListener('password-set', () => this.showSignIn(t('people.invite.done')));
    document.title = t('app.title');
    this.replaceChildren(el('main', { class: 'signin-page' }, form));
  }

  signedIn(me) {
    this.me = me;
    if (!managesSettings(me)) {
      this.shell = null;
      this.replaceChildren(el('main', { class: 'signin-page' },
        el('section', { class: 'signin-card refused', attrs: { role: 'alert', 'aria-labelledby': 'refused-title' } },
          el('h1', { text: t('console.refused.title'), attrs: { id: 'refused-title' } }),
          el('p', { text: t('console.refused.text', { name: me.name }) }),
          el('p', {}, el('a', { class: 'button primary', text: t('console.inbox'), attrs: { href: '/inbox/' } })))));
      return;
    }
    this.buildShell();
    this.route();
  }

  buildShell() {
    this.brand = el('span', { class: 'brand' });
    this.inboxLink = el('a', { class: 'button', attrs: { href: '/inbox/' } });
    this.language = el('select', { attrs: { id: 'language' }, on: { change: () => setLanguage(this.language.value) } },
      languages.map(([code, name]) => el('option', { text: name, attrs: { value: code, lang: code } })));
    this.languageLabel = el('label', { class: 'visually-hidden', attrs: { for: 'language' } });
    this.who = el('span', { class: 'who' });
    this.signOutButton = el('button', { attrs: { type: 'button' }, on: { click: () => this.signOut() } });
    this.nav = el('nav', { class: 'console-nav' });
    this.content = el('main', { class: 'console-main', attrs: { tabindex: '-1' } });
    this.shell = el('div', { class: 'shell' },
      el('header', { class: 'topbar' }, this.brand, el('span', { class: 'spacer' }),
        this.inboxLink, this.languageLabel, this.language, this.who, this.signOutButton),
      el('div', { class: 'console-body' }, this.nav, this.content));
    this.replaceChildren(this.shell);
    this.relabel();
  }

  relabel() {
    if (!this.shell) {
      if (this.me && !managesSettings(this.me)) this.signedIn(this.me);
      else if (!this.me) this.showSignIn();
      return;
    }
    document.title = this.section ? `${t(this.section.label)} · ${t('app.title')}` : t('app.title');
    this.brand.textContent = t('app.title');
    this.inboxLink.textContent = t('console.inbox');
    this.languageLabel.textContent = t('language');
    this.language.value = currentLanguage();
    this.who.textContent = this.me?.name ?? '';
    this.signOutButton.textContent = t('signout');
    this.nav.setAttribute('aria-label', t('console.sections'));
    this.nav.replaceChildren(el('ul', {}, sections.map((section) => el('li', {},
      el('a', { class: 'view', text: t(section.label),
        attrs: { href: `#/${section.key}`, 'aria-current': section === this.section ? 'page' : false } })))));
    this.element?.relabel?.();
  }

  /** Shows the section the address names (the first one for an address naming none). */
  async route() {
    if (!this.shell) return;
    const [key = '', ...rest] = location.hash.replace(/^#\/?/, '').split('/');
    const section = sections.find((candidate) => candidate.key === key) ?? sections[0];
    const path = section?.key === key ? rest.map(decodeURIComponent).join('/') : '';
    if (!section) {
      this.content.replaceChildren(el('p', { class: 'console-note', text: t('console.empty') }));
      return;
    }
    if (section === this.section && this.element) {
      if (this.element.path !== path) this.element.path = path;
      return;
    }
    this.section = section;
    this.relabel();
    this.content.replaceChildren(el('p', { class: 'console-note', text: t('console.loading'), attrs: { role: 'status' } }));
    try {
      await section.load();
    } catch (error) {
      this.content.replaceChildren(el('p', { class: 'form-error', text: t('console.load.failed', { message: error.message }), attrs: { role: 'alert' } }));
      return;
    }
    if (this.section !== section) return;  // another section was opened meanwhile
    const element = document.createElement(section.element);
    element.me = this.me;
    element.path = path;
    this.element = element;
    this.content.replaceChildren(element);
    this.relabel();
  }

  /** A section moves within itself: the address follows, without reloading the section. */
  navigate(path, from) {
    if (!this.section || from !== this.element) return;
    const hash = `#/${this.section.key}${path ? `/${path.split('/').map(encodeURIComponent).join('/')}` : ''}`;
    if (location.hash !== hash) history.pushState(null, '', hash);
    this.element.path = path;
  }

  async signOut() {
    try { await api.signOut(); } catch { /* the cookie is cleared or already invalid */ }
    this.section = null;
    this.element = null;
    this.showSignIn();
  }
}
customElements.define('console-app', ConsoleApp);
