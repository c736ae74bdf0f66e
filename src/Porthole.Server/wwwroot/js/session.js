// Opening a Porthole session from a viewer tab: POST /api/v1/sessions (the agent has reached the target when it
// answers), then the stream WebSocket. Browsers cannot set headers on a WebSocket, so the single-use client key
// travels as a sub-protocol entry; nothing secret goes into a URL.
import { api } from './api.js';

export async function openSession(device, endpoint, action) {
  const session = await api('POST', '/api/v1/sessions', { device, endpoint, action });
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(`${scheme}//${location.host}${session.streamPath}`, ['porthole.data', `porthole.key.${session.clientKey}`]);
  socket.binaryType = 'arraybuffer';
  return socket;
}

/** A readable reason for a closed stream, from its close frame (the server relays the agent's reasons). */
export function closeReason(event, fallback) {
  if (event?.reason) return event.reason;
  switch (event?.code) {
    case 1000: return fallback;
    case 1001: return 'the server or the agent went away';
    case 1006: return 'the connection to the server was lost';
    case 1008: return 'refused by the server';
    default: return fallback;
  }
}

export function setStatus(element, state, text) {
  element.dataset.state = state;
  element.textContent = text;
  element.title = text;
}
