import { api, showError } from './api.js';

const form = document.getElementById('register-form');
const error = document.getElementById('register-error');

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  showError(error, '');
  const name = form.elements.name.value.trim();
  const group = form.elements.group.value.trim();
  const tags = form.elements.tags.value.split(/[\s,]+/).filter(Boolean);
  const button = document.getElementById('register-submit');
  button.disabled = true;
  try {
    const created = await api('POST', '/api/v1/devices', { name, group: group || null, tags });
    const fingerprint = form.dataset.fingerprint;
    const command = [
      'porthole-agent enrol',
      `--server ${form.dataset.serverUrl}`,
      `--token ${created.enrolmentToken}`,
      '--state-dir /var/lib/porthole-agent',
      ...(fingerprint ? [`--fingerprint ${fingerprint}`] : []),
    ].join(' ');
    document.getElementById('enrolled-name').textContent = created.name;
    document.getElementById('enrolment-token').textContent = created.enrolmentToken;
    document.getElementById('enrol-command').textContent = command;
    document.getElementById('enrolment-expires').textContent = new Date(created.enrolmentExpiresAt).toLocaleString();
    document.getElementById('open-device').href = '/devices/' + encodeURIComponent(created.name);
    form.hidden = true;
    document.getElementById('enrolment').hidden = false;
  } catch (e) {
    showError(error, e.message);
  } finally {
    button.disabled = false;
  }
});

document.addEventListener('click', async (event) => {
  const id = event.target.dataset?.copy;
  if (!id) return;
  try {
    await navigator.clipboard.writeText(document.getElementById(id).textContent);
    event.target.textContent = 'Copied';
  } catch {
    window.getSelection().selectAllChildren(document.getElementById(id));
  }
});
