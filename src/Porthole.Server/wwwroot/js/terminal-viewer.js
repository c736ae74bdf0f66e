// The terminal tab: xterm.js over the session WebSocket. Raw TCP consoles get the bytes unchanged; Telnet endpoints
// also get a minimal option negotiation (RFC 854/855): we refuse everything except the server's ECHO and
// SUPPRESS-GO-AHEAD, and announce the window size with NAWS (RFC 1073) so resizing reaches the device. SSH endpoints
// are served by the server's own SSH client (stored credential); it takes the size as a JSON text message.
import { Terminal } from '../lib/xterm/xterm.mjs';
import { FitAddon } from '../lib/xterm/addon-fit.mjs';
import { closeReason, openSession, setStatus } from './session.js';

const { device, endpoint, label, protocol } = document.body.dataset;
const status = document.getElementById('status');
const disconnectButton = document.getElementById('disconnect');
const reconnectButton = document.getElementById('reconnect');
const encoder = new TextEncoder();

const term = new Terminal({
  cursorBlink: true,
  convertEol: false,
  fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
  fontSize: 14,
  scrollback: 5000,
  theme: { background: '#0e131b' },
});
const fit = new FitAddon();
term.loadAddon(fit);
term.open(document.getElementById('terminal'));
fit.fit();
window.addEventListener('resize', () => fit.fit());

let socket = null;
let userDisconnected = false;
const telnet = protocol === 'telnet' ? createTelnet() : null;

function send(bytes) {
  if (socket?.readyState === WebSocket.OPEN) socket.send(bytes);
}

term.onData((data) => send(encoder.encode(data)));
term.onBinary((data) => send(Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff)));
const ssh = protocol === 'ssh';

function sendSize() {
  if (ssh && socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'resize', cols: term.cols, rows: term.rows }));
  else telnet?.sendWindowSize();
}

term.onResize(sendSize);

async function connect() {
  userDisconnected = false;
  reconnectButton.disabled = true;
  setStatus(status, 'connecting', `Opening a session to ${device} / ${label}…`);
  try {
    socket = await openSession(device, endpoint, 'terminal');
  } catch (e) {
    setStatus(status, 'failed', `Disconnected: ${e.message}`);
    reconnectButton.disabled = false;
    return;
  }

  socket.addEventListener('open', () => {
    setStatus(status, 'connected', `Connected to ${device} / ${label}`);
    disconnectButton.disabled = false;
    if (ssh) sendSize();
    term.focus();
  });
  socket.addEventListener('message', (event) => {
    if (typeof event.data === 'string') {
      // 'fin': the device will send no more; answer in kind so the session can close cleanly.
      if (event.data === 'fin') socket.send('fin');
      return;
    }
    const bytes = new Uint8Array(event.data);
    term.write(telnet ? telnet.receive(bytes) : bytes);
  });
  socket.addEventListener('close', (event) => {
    socket = null;
    const reason = userDisconnected ? 'you closed the session' : closeReason(event, 'the device closed the connection');
    setStatus(status, 'disconnected', `Disconnected: ${reason}`);
    term.write(`\r\n\x1b[33m[${reason}]\x1b[0m\r\n`);
    disconnectButton.disabled = true;
    reconnectButton.disabled = false;
  });
}

function createTelnet() {
  const IAC = 255, DONT = 254, DO = 253, WONT = 252, WILL = 251, SB = 250, SE = 240;
  const ECHO = 1, SGA = 3, NAWS = 31;
  let state = 0; let command = 0; let nawsOn = false;
  const api = {
    sendWindowSize() {
      if (!nawsOn) return;
      const size = [term.cols >> 8, term.cols & 255, term.rows >> 8, term.rows & 255];
      const escaped = size.flatMap((b) => (b === IAC ? [IAC, IAC] : [b]));
      send(Uint8Array.from([IAC, SB, NAWS, ...escaped, IAC, SE]));
    },
    receive(bytes) {
      const out = [];
      for (const b of bytes) {
        if (state === 0) {
          if (b === IAC) state = 1; else out.push(b);
        } else if (state === 1) {
          if (b === IAC) { out.push(IAC); state = 0; } else if (b === SB) state = 3; else if (b >= WILL && b <= DONT) { command = b; state = 2; } else state = 0;
        } else if (state === 2) {
          if (command === WILL) send(Uint8Array.from([IAC, b === ECHO || b === SGA ? DO : DONT, b]));
          else if (command === DO) {
            if (b === NAWS) { send(Uint8Array.from([IAC, WILL, NAWS])); nawsOn = true; api.sendWindowSize(); } else send(Uint8Array.from([IAC, WONT, b]));
          }
          state = 0;
        } else if (state === 3) {
          if (b === IAC) state = 4;
        } else if (state === 4) {
          state = b === SE ? 0 : 3;
        }
      }
      return Uint8Array.from(out);
    },
  };
  return api;
}

disconnectButton.addEventListener('click', () => { userDisconnected = true; socket?.close(1000, 'closed by the user'); });
reconnectButton.addEventListener('click', () => { term.reset(); connect(); });
document.getElementById('copy').addEventListener('click', () => navigator.clipboard.writeText(term.getSelection()).catch(() => {}));
document.getElementById('paste').addEventListener('click', async () => {
  try { term.paste(await navigator.clipboard.readText()); } catch { /* clipboard permission refused */ }
  term.focus();
});
document.getElementById('fullscreen').addEventListener('click', () => {
  if (document.fullscreenElement) document.exitFullscreen();
  else document.documentElement.requestFullscreen().catch(() => {});
});

connect();
