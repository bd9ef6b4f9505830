// `?`: the keyboard shortcuts, in a modal <dialog> (Escape closes it). Loaded the first time it opens.
import { el } from '../dom.js';
import { t } from '../i18n.js';

const keys = [['j', 'help.j'], ['k', 'help.k'], ['r', 'help.r'], ['n', 'help.n'], ['e', 'help.e'], ['a', 'help.a'], ['x', 'help.x'], ['/', 'help.slash'], ['?', 'help.question'], ['Esc', 'help.escape']];

export function openHelp() {
  const dialog = el('dialog', { class: 'help', attrs: { 'aria-labelledby': 'help-title' } },
    el('h2', { text: t('help.title'), attrs: { id: 'help-title' } }),
    el('dl', {}, keys.flatMap(([key, label]) => [el('dt', {}, el('kbd', { text: key })), el('dd', { text: t(label) })])),
    el('form', { attrs: { method: 'dialog' } }, el('button', { text: t('help.close'), attrs: { type: 'submit' } })));
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}
