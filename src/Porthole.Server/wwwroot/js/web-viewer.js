// Opens a device's web page: POST /api/v1/web-sessions answers once the device's web server is reachable through
// the agent, with a one-time URL on the session's own origin; this tab then moves there. The URL's ticket is used
// at once and never stored in the console (location.replace keeps it out of this tab's history).
import { api } from './api.js';

const { device, endpoint } = document.body.dataset;
const status = document.getElementById('status');
const error = document.getElementById('error');
const retry = document.getElementById('retry');

async function open() {
  status.dataset.state = 'connecting';
  error.hidden = true;
  retry.hidden = true;
  try {
    const session = await api('POST', '/api/v1/web-sessions', { device, endpoint });
    status.textContent = 'Opening the device web page…';
    window.location.replace(session.url);
  } catch (failure) {
    status.dataset.state = 'failed';
    status.textContent = 'Could not open the web page';
    error.textContent = failure.message;
    error.hidden = false;
    retry.hidden = false;
  }
}

retry.addEventListener('click', open);
open();
