// The VNC viewer tab: noVNC's RFB over the session WebSocket.
import RFB from '../lib/novnc/core/rfb.js';
import { closeReason, openSession, setStatus } from './session.js';

const { device, endpoint, label } = document.body.dataset;
const status = document.getElementById('status');
const screen = document.getElementById('screen');
const buttons = {
  cad: document.getElementById('ctrl-alt-del'),
  disconnect: document.getElementById('disconnect'),
  reconnect: document.getElementById('reconnect'),
};
const scale = document.getElementById('scale');
const viewOnly = document.getElementById('view-only');
const credentials = document.getElementById('credentials');
const credentialsForm = document.getElementById('credentials-form');
const clipboardPanel = document.getElementById('clipboard-panel');
const clipboardText = document.getElementById('clipboard-text');

let rfb = null;
let userDisconnected = false;

function connected(isConnected) {
  buttons.cad.disabled = !isConnected || viewOnly.checked;
  buttons.disconnect.disabled = !rfb;
  buttons.reconnect.disabled = !!rfb;
}

function disconnectedWith(reason) {
  rfb = null;
  credentials.hidden = true;
  setStatus(status, 'disconnected', `Disconnected: ${reason}`);
  document.title = `Disconnected · ${label} · ${device}`;
  connected(false);
}

async function connect() {
  userDisconnected = false;
  buttons.reconnect.disabled = true;
  setStatus(status, 'connecting', `Opening a session to ${device} / ${label}…`);
  let socket;
  try {
    socket = await openSession(device, endpoint, 'vnc');
  } catch (e) {
    setStatus(status, 'failed', `Disconnected: ${e.message}`);
    buttons.reconnect.disabled = false;
    return;
  }

  let closeEvent = null;
  let securityFailure = null;
  socket.addEventListener('open', () => setStatus(status, 'connecting', 'Starting VNC handshake'));
  socket.addEventListener('close', (event) => { closeEvent = event; });

  rfb = new RFB(screen, socket, { shared: true });
  rfb.scaleViewport = scale.checked;
  rfb.viewOnly = viewOnly.checked;
  rfb.focusOnClick = true;
  connected(false);

  rfb.addEventListener('connect', () => {
    setStatus(status, 'connected', `Connected to ${device} / ${label}`);
    document.title = `${label} · ${device} · VNC`;
    credentials.hidden = true;
    connected(true);
    rfb.focus();
  });
  rfb.addEventListener('credentialsrequired', (event) => {
    const types = event.detail?.types ?? ['password'];
    const wantsUser = types.includes('username');
    document.getElementById('vnc-username').hidden = !wantsUser;
    document.getElementById('vnc-username-label').hidden = !wantsUser;
    credentials.hidden = false;
    document.getElementById(wantsUser ? 'vnc-username' : 'vnc-password').focus();
  });
  rfb.addEventListener('securityfailure', (event) => {
    securityFailure = event.detail?.reason || 'the VNC server rejected the password';
  });
  rfb.addEventListener('clipboard', (event) => { clipboardText.value = event.detail.text; });
  rfb.addEventListener('disconnect', (event) => {
    let reason;
    if (userDisconnected) reason = 'you closed the session';
    else if (securityFailure) reason = `VNC authentication failed: ${securityFailure}`;
    else reason = closeReason(closeEvent, event.detail.clean ? 'the VNC server closed the connection' : 'the connection was lost');
    disconnectedWith(reason);
  });
}

credentialsForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const password = document.getElementById('vnc-password');
  const username = document.getElementById('vnc-username');
  rfb?.sendCredentials(username.hidden ? { password: password.value } : { username: username.value, password: password.value });
  password.value = '';
  credentials.hidden = true;
});
document.getElementById('credentials-cancel').addEventListener('click', () => {
  userDisconnected = true;
  credentials.hidden = true;
  rfb?.disconnect();
});

scale.addEventListener('change', () => { if (rfb) rfb.scaleViewport = scale.checked; });
viewOnly.addEventListener('change', () => {
  if (rfb) rfb.viewOnly = viewOnly.checked;
  buttons.cad.disabled = !rfb || viewOnly.checked || status.dataset.state !== 'connected';
});
buttons.cad.addEventListener('click', () => rfb?.sendCtrlAltDel());
buttons.disconnect.addEventListener('click', () => { userDisconnected = true; rfb?.disconnect(); });
buttons.reconnect.addEventListener('click', () => connect());
document.getElementById('fullscreen').addEventListener('click', () => {
  if (document.fullscreenElement) document.exitFullscreen();
  else document.documentElement.requestFullscreen().catch(() => {});
});
document.getElementById('clipboard-toggle').addEventListener('click', (event) => {
  clipboardPanel.hidden = !clipboardPanel.hidden;
  event.currentTarget.setAttribute('aria-expanded', String(!clipboardPanel.hidden));
});
document.getElementById('clipboard-send').addEventListener('click', () => rfb?.clipboardPasteFrom(clipboardText.value));

connect();
