// The agent's alert choices: which events alert on this desktop (the live feed's `alert`) and by
// Web Push (PUT /me/alerts keeps the other media, phone and quiet hours as they were), desktop
// notifications for this browser (asks the permission), the sound, and whether this tab is the
// one that rings.
import { api } from '../api.js';
import { el } from '../dom.js';
import { t } from '../i18n.js';
import { openDialog } from './dialog.js';
import { pushState as readPushState, setPush } from '../push.js';

const EVENTS = ['new_ticket', 'customer_message', 'assigned', 'waiting'];

export async function openAlertSettings(alerts) {
  let settings;
  try { settings = await api.alerts(); } catch { settings = { media: {} }; }
  const media = settings.media ?? {};
  const box = (event, medium) => el('input', {
    attrs: { type: 'checkbox', 'data-event': event, 'data-medium': medium, checked: (media[event] ?? []).includes(medium), 'aria-label': `${t(`alerts.event.${event}`)}: ${t(`alerts.medium.${medium}`)}` },
  });
  const rows = EVENTS.map((event) => el('tr', {}, el('th', { text: t(`alerts.event.${event}`), attrs: { scope: 'row' } }),
    el('td', {}, box(event, 'desktop')), el('td', {}, box(event, 'push'))));
  const table = el('table', { class: 'alert-table' },
    el('thead', {}, el('tr', {}, el('td'), el('th', { text: t('alerts.medium.desktop'), attrs: { scope: 'col' } }), el('th', { text: t('alerts.medium.push'), attrs: { scope: 'col' } }))),
    el('tbody', {}, rows));

  const desktop = el('input', { attrs: { type: 'checkbox', id: 'alert-desktop', checked: alerts.desktopOn, disabled: !alerts.desktopSupported } });
  const sound = el('input', { attrs: { type: 'checkbox', id: 'alert-sound', checked: alerts.soundOn } });
  const pushState = await readPushState(alerts.assets).catch(() => 'unsupported');
  const push = el('input', { attrs: { type: 'checkbox', id: 'alert-push', checked: pushState === 'on', disabled: pushState === 'unsupported' } });
  const denied = alerts.desktopSupported && Notification.permission === 'denied';
  const leader = el('p', { class: 'faint', text: alerts.leader ? t('alerts.leader') : t('alerts.follower'), attrs: { role: 'status' } });
  const check = (input, label) => el('label', { class: 'check' }, input, el('span', { text: label }));

  return openDialog({
    title: t('alerts.title'),
    fields: [
      el('p', { class: 'faint', text: t('alerts.explain') }),
      table,
      el('fieldset', { class: 'checks' }, el('legend', { text: t('alerts.browser') }),
        check(desktop, denied ? t('alerts.desktopDenied') : t('alerts.desktop')),
        check(push, pushState === 'unsupported' ? t('alerts.pushUnsupported') : t('alerts.push')),
        check(sound, t('alerts.sound'))),
      leader,
    ],
    submitLabel: t('alerts.save'),
    submit: async () => {
      const chosen = { ...media };
      for (const input of table.querySelectorAll('input')) {
        const { event, medium } = input.dataset;
        const others = (chosen[event] ?? []).filter((m) => m !== medium);
        chosen[event] = input.checked ? [...others, medium] : others;
      }
      await api.setAlerts({ ...settings, media: chosen });
      alerts.soundOn = sound.checked;
      if (desktop.checked !== alerts.desktopOn) await alerts.setDesktop(desktop.checked);
      if (!push.disabled && push.checked !== (pushState === 'on')) await setPush(alerts.assets, push.checked);
    },
  });
}
