// The website chat widget's loader, served at /widget.js. The business pastes one tag:
//   <script src="https://bridge.example/widget.js" data-account="ID" async></script>
// It adds a button and an <iframe> to the bridge's widget page (/widget/ID), which is same-origin
// with the visitor API. The button shows only once that page says it is ready: the bridge refuses
// to be framed by a site not in the account's allowedOrigins (CSP frame-ancestors), and then the
// visitor sees nothing at all. Runs in the host page, so it touches nothing but its own two nodes.
(() => {
  const script = document.currentScript;
  if (!script || !script.dataset.account || window.__bridgeWidget) return;
  window.__bridgeWidget = true;
  const origin = new URL(script.src).origin;
  const account = script.dataset.account;
  const ja = (navigator.language || '').toLowerCase().startsWith('ja');
  const labels = ja ? { open: 'チャットを開く', close: 'チャットを閉じる', title: 'チャット' } : { open: 'Open the chat', close: 'Close the chat', title: 'Chat' };

  // The visitor's token, kept here too: a browser that blocks third-party storage gives the framed
  // page none, and then this copy (first-party to the site) is what continues the chat after a
  // reload. It goes to the frame in the URL's fragment, which is never sent to a server.
  const storageKey = `bridge-widget:${account}`;
  let token = null;
  try { token = localStorage.getItem(storageKey); } catch { /* storage off: a new chat per page */ }
  const frame = document.createElement('iframe');
  frame.src = `${origin}/widget/${encodeURIComponent(account)}` + (token ? `#t=${encodeURIComponent(token)}` : '');
  frame.title = labels.title;
  Object.assign(frame.style, {
    position: 'fixed', right: '16px', bottom: '88px', width: '370px', height: '560px', maxWidth: 'calc(100vw - 32px)',
    maxHeight: 'calc(100vh - 104px)', border: '0', borderRadius: '12px', boxShadow: '0 8px 32px rgba(0,0,0,.25)',
    zIndex: '2147483646', display: 'none', background: '#fff', colorScheme: 'normal',
  });

  const button = document.createElement('button');
  button.type = 'button';
  button.setAttribute('aria-label', labels.open);
  button.setAttribute('aria-expanded', 'false');
  // Drawn, not an emoji: a site's visitors may have no emoji font.
  const icon = (path) => {
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', '26');
    svg.setAttribute('height', '26');
    svg.setAttribute('aria-hidden', 'true');
    const shape = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    shape.setAttribute('d', path);
    shape.setAttribute('fill', 'currentColor');
    svg.append(shape);
    return svg;
  };
  const bubble = 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z';
  const cross = 'M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z';
  button.append(icon(bubble));
  Object.assign(button.style, {
    position: 'fixed', right: '16px', bottom: '16px', width: '56px', height: '56px', borderRadius: '50%', border: '0',
    padding: '0', lineHeight: '0', cursor: 'pointer', boxShadow: '0 4px 16px rgba(0,0,0,.25)', zIndex: '2147483647', display: 'none',
    background: '#2f6fdf', color: '#fff',
  });

  function show(open) {
    frame.style.display = open ? 'block' : 'none';
    button.setAttribute('aria-expanded', String(open));
    button.setAttribute('aria-label', open ? labels.close : labels.open);
    button.replaceChildren(icon(open ? cross : bubble));
    if (window.innerWidth <= 480) {
      Object.assign(frame.style, open ? { right: '0', bottom: '0', width: '100vw', height: '100vh', maxWidth: '100vw', maxHeight: '100vh', borderRadius: '0' } : {});
      button.style.display = open ? 'none' : 'block';
    }
    frame.contentWindow?.postMessage({ type: open ? 'bridge-widget:open' : 'bridge-widget:closed' }, origin);
    if (!open) button.focus();
  }

  button.addEventListener('click', () => show(frame.style.display === 'none'));
  window.addEventListener('message', (event) => {
    if (event.origin !== origin || event.source !== frame.contentWindow || typeof event.data !== 'object' || !event.data) return;
    if (event.data.type === 'bridge-widget:ready') {
      if (/^#[0-9a-f]{6}$/i.test(event.data.colour || '')) button.style.background = event.data.colour;
      button.style.display = 'block';
    } else if (event.data.type === 'bridge-widget:token' && typeof event.data.token === 'string') {
      try { localStorage.setItem(storageKey, event.data.token); } catch { /* storage off */ }
    } else if (event.data.type === 'bridge-widget:close') {
      show(false);
    }
  });

  const mount = () => document.body.append(frame, button);
  if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);
})();
