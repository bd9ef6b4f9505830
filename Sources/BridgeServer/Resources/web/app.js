// The app: who is signed in, the inbox's three panes, routing (#/<view>/<ticket>), keyboard
// shortcuts and the live feed. A session that ends mid-work (any 401) brings the sign-in form
// back over the inbox; the store (and so every unsent draft) stays as it was. Rarely used dialogs
// (keys, alert settings) load the first time they open.
import { api, UNAUTHORIZED } from './api.js';
import { el, typingTarget } from './dom.js';
import { currentLanguage, languages, onLanguageChange, setLanguage, t } from './i18n.js';
import { Live } from './live.js';
import { Store } from './store.js';
import { Alerts } from './alerts.js';
import { managesSettings, ticketActions } from './access.js';
import './components/sign-in.js';
import './components/views-nav.js';
import './components/ticket-list.js';
import './components/conversation-view.js';

class InboxApp extends HTMLElement {
  async connectedCallback() {
    window.addEventListener(UNAUTHORIZED, () => this.sessionEnded());
    this.addEventListener('signed-in', (event) => this.signedIn(event.detail.agent));
    this.addEventListener('choose-view', (event) => this.chooseView(event.detail));
    this.addEventListener('open-ticket', (event) => this.openTicket(event.detail));
    this.addEventListener('ticket-action', (event) => this.act(event.detail));
    this.addEventListener('action-failed', (event) => this.conversation?.composer.showError({ message: t('action.failed', { message: event.detail.message }) }));
    document.addEventListener('keydown', (event) => this.key(event));
    onLanguageChange(() => this.relabel());
    let me;
    try {
      me = await api.me();
    } catch {
      this.showSignIn();
      return;
    }
    this.signedIn(me);
  }

  showSignIn(notice) {
    document.title = t('app.title');
    const form = document.createElement('sign-in-form');
    if (notice) form.notice = notice;
    if (this.shell) {
      // Over the inbox, which stays (inert) with its store and drafts.
      this.shell.inert = true;
      this.overlay?.remove();
      this.overlay = el('div', { class: 'signin-overlay', attrs: { role: 'dialog', 'aria-modal': 'true', 'aria-label': t('signin.title') } }, form);
      this.append(this.overlay);
    } else {
      this.replaceChildren(el('main', { class: 'signin-page' }, form));
    }
  }

  sessionEnded() {
    if (this.overlay || !this.store) return;
    this.live?.stop();
    this.showSignIn(t('signin.expired'));
  }

  signedIn(agent) {
    if (this.shell && this.store?.me?.id === agent.id) {
      this.overlay?.remove();
      this.overlay = null;
      this.shell.inert = false;
      this.store.reloadAll();
      this.live.start();
      return;
    }
    this.live?.stop();
    this.alerts?.stop();
    this.overlay = null;
    this.store = new Store();
    this.live = new Live(this.store);
    this.alerts = new Alerts(this.store);
    this.alerts.addEventListener('open-ticket', (event) => this.openTicket(event.detail));
    this.buildShell();
    const [viewKey, ticketId] = this.route();
    this.live.start();
    this.store.boot(agent, viewKey).then(() => {
      if (ticketId) this.openTicket(ticketId);
    });
  }

  route() {
    const [, view, ticket] = location.hash.split('/');
    return [view, ticket ? Number(ticket) : null];
  }

  saveRoute() {
    const hash = `#/${this.store.viewKey ?? ''}${this.store.openId != null ? `/${this.store.openId}` : ''}`;
    if (location.hash !== hash) history.replaceState(null, '', hash);
  }

  buildShell() {
    const store = this.store;
    this.liveStatus = el('span', { class: 'live-status', attrs: { role: 'status' } });
    this.availability = el('select', { attrs: { id: 'availability' }, on: { change: () => this.setAvailability() } });
    this.availabilityLabel = el('label', { class: 'visually-hidden', attrs: { for: 'availability' } });
    this.language = el('select', { attrs: { id: 'language' }, on: { change: () => setLanguage(this.language.value) } },
      languages.map(([code, name]) => el('option', { text: name, attrs: { value: code, lang: code } })));
    this.languageLabel = el('label', { class: 'visually-hidden', attrs: { for: 'language' } });
    this.helpButton = el('button', { class: 'icon-button', text: '?', attrs: { type: 'button' }, on: { click: () => this.openHelp() } });
    this.signOutButton = el('button', { attrs: { type: 'button' }, on: { click: () => this.signOut() } });
    this.consoleLink = el('a', { class: 'button', attrs: { href: '/console/' } });
    this.alertsButton = el('button', { attrs: { type: 'button' }, on: { click: () => this.openAlertSettings() } });
    this.who = el('span', { class: 'who' });
    this.brand = el('span', { class: 'brand' });
    this.nav = document.createElement('views-nav');
    this.nav.store = store;
    this.list = document.createElement('ticket-list');
    this.list.store = store;
    this.conversation = document.createElement('conversation-view');
    this.conversation.store = store;
    this.conversation.live = this.live;
    this.panes = el('div', { class: 'panes' },
      el('aside', { class: 'pane pane-nav' }, this.nav),
      el('section', { class: 'pane pane-list' }, this.list),
      el('section', { class: 'pane pane-conv' }, this.conversation));
    this.shell = el('div', { class: 'shell' },
      el('header', { class: 'topbar' }, this.brand, this.liveStatus, el('span', { class: 'spacer' }),
        this.availabilityLabel, this.availability, this.languageLabel, this.language, this.consoleLink, this.alertsButton, this.helpButton, this.who, this.signOutButton),
      el('main', { class: 'main' }, this.panes));
    this.replaceChildren(this.shell);
    store.addEventListener('change', (event) => {
      const { what } = event.detail;
      if (what === 'live') this.renderLive();
      if (what === 'meta') this.relabel();
      if (what === 'list') this.renderTitle();
      if (what === 'hidden' && event.detail.ticketId === store.openId) this.openTicket(null);
      if (what === 'open' || what === 'list') {
        this.panes.classList.toggle('has-open', store.openId != null);
        this.saveRoute();
      }
    });
    this.relabel();
  }

  relabel() {
    if (!this.shell) {
      if (!this.overlay && this.querySelector('sign-in-form')) this.showSignIn();
      return;
    }
    this.brand.textContent = t('app.title');
    this.availabilityLabel.textContent = t('availability');
    this.availability.replaceChildren(...['online', 'break', 'offline'].map((a) => el('option', { text: t(`availability.${a}`), attrs: { value: a } })));
    this.availability.value = this.store.me?.availability ?? 'online';
    this.availability.hidden = !this.store.isAgent;
    this.languageLabel.textContent = t('language');
    this.language.value = currentLanguage();
    this.helpButton.setAttribute('aria-label', t('help.open'));
    this.helpButton.title = t('help.open');
    this.signOutButton.textContent = t('signout');
    this.alertsButton.textContent = t('alerts.open');
    this.consoleLink.textContent = t('console.open');
    this.consoleLink.hidden = !managesSettings(this.store.me);
    this.alertsButton.hidden = !this.store.isAgent;
    this.who.textContent = this.store.me?.name ?? '';
    this.nav.render?.();
    this.list.relabel?.();
    this.list.renderRows?.();
    this.conversation.relabel?.();
    this.renderLive();
    this.renderTitle();
  }

  async openHelp() {
    (await import('./components/help-dialog.js')).openHelp();
  }

  async openAlertSettings() {
    (await import('./components/alert-settings.js')).openAlertSettings(this.alerts);
  }

  renderLive() {
    const state = this.store.live;
    this.liveStatus.textContent = t(`live.${state}`);
    this.liveStatus.dataset.state = state;
  }

  renderTitle() {
    const unread = this.store.unreadCount();
    document.title = unread ? `(${unread}) ${t('app.title')}` : t('app.title');
  }

  async setAvailability() {
    try {
      this.store.me = await api.setAvailability(this.store.me.id, this.availability.value);
    } catch (error) {
      this.availability.value = this.store.me.availability;
    }
  }

  async signOut() {
    this.live.stop();
    this.alerts?.stop();
    this.alerts = null;
    // Before the session ends: this browser's pushes were this agent's alone.
    await import('./push.js').then((push) => push.pushOff()).catch(() => {});
    try { await api.signOut(); } catch { /* the cookie is cleared or already invalid */ }
    this.shell = null;
    this.store = null;
    history.replaceState(null, '', '#/');
    this.showSignIn();
  }

  async chooseView(key) {
    await this.store.setView(key);
  }

  async openTicket(id) {
    this.live.view(id);
    await this.store.open(id);
    if (id == null) this.list.querySelector('[aria-selected="true"], .row')?.focus();
  }

  async act(action) {
    const id = this.store.openId;
    if (id == null) return;
    try {
      await this.store.act(id, action);
    } catch (error) {
      if (error.status !== 401) this.conversation.composer.showError({ message: t('action.failed', { message: error.message }) });
    }
  }

  /** A key for a ticket action asks access.js, as the action's button does: a key whose action
   *  is not offered on the open ticket says so (the composer's alert) instead of doing it. */
  ticketKey(key, action, run) {
    const ticket = this.store.tickets.get(this.store.openId);
    if (!ticket) return;
    if (ticketActions(this.store.me, ticket, this.store.contacts.get(ticket.contact.id))[action]) run();
    else this.conversation.composer.showNotice(t('keys.notOffered', { key, action: t(`help.${key}`), id: ticket.id }));
  }

  /** Moves to the next (+1) or previous (-1) ticket of the list and opens it. */
  step(delta) {
    const ids = this.store.visibleIds();
    if (!ids.length) return;
    const at = ids.indexOf(this.store.openId);
    const next = ids[Math.min(ids.length - 1, Math.max(0, at === -1 ? 0 : at + delta))];
    // Focus moves now, not when the ticket has loaded: a later key (r, e) must not lose it.
    this.list.querySelector(`.row[data-id="${next}"]`)?.focus();
    this.openTicket(next);
  }

  /** x: selects the focused row (or the open ticket) for a mass action. */
  toggleSelection() {
    const row = document.activeElement?.closest?.('.row');
    const id = row ? Number(row.dataset.id) : this.store.openId;
    if (id == null) return;
    const check = this.list.querySelector(`.row[data-id="${id}"] .row-check`);
    if (check && !check.disabled) this.store.toggleSelected(id);
  }

  key(event) {
    if (!this.store || this.overlay || event.ctrlKey || event.metaKey || event.altKey) return;
    if (document.querySelector('dialog[open]')) return;
    if (typingTarget(event.target)) {
      if (event.key === 'Escape') event.target.blur();
      return;
    }
    const open = this.store.openId != null;
    const actions = {
      j: () => this.step(1),
      k: () => this.step(-1),
      '/': () => this.list.focusSearch(),
      '?': () => this.openHelp(),
      r: () => open && this.conversation.composer.focusMode('reply'),
      n: () => open && this.conversation.composer.focusMode('note'),
      e: () => open && this.ticketKey('e', 'resolve', () => this.conversation.resolve()),
      a: () => open && this.ticketKey('a', 'claim', () => this.act('claim')),
      x: () => this.toggleSelection(),
      Escape: () => open && window.matchMedia('(max-width: 720px)').matches && this.openTicket(null),
    };
    const run = actions[event.key];
    if (run) {
      event.preventDefault();
      run();
    }
  }
}
customElements.define('inbox-app', InboxApp);
