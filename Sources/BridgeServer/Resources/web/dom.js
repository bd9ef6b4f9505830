// Small DOM helpers. Text goes in with textContent and attributes with setAttribute, never as
// markup, so customer-controlled strings can never become HTML.

/** el('button', {class: 'x', text: 'Hi', attrs: {'aria-label': ..}, on: {click: fn}}, ...children) */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.text !== undefined) node.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const [name, listener] of Object.entries(props.on ?? {})) node.addEventListener(name, listener);
  for (const child of children.flat()) if (child) node.append(child);
  return node;
}

/** A copy of a <template id=...> in index.html. */
export function clone(id) {
  return document.getElementById(id).content.firstElementChild.cloneNode(true);
}

/** Fills a .channel element (icon + name) for a channel kind. */
export function fillChannel(node, channel, t) {
  const icon = node.querySelector('.channel-icon');
  icon.className = `channel-icon ch-${channel}`;
  icon.textContent = ({ line: 'L', whatsapp: 'W', messenger: 'M', instagram: 'I', sms: 'S', wechat: 'C', webchat: 'B', email: 'E' })[channel] ?? '?';
  node.querySelector('.channel-name').textContent = t(`channel.${channel}`);
}

/** Is the keyboard focus in something the agent types into? */
export function typingTarget(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}
