// The device page's Manage panel: edit group and tags, re-issue the enrolment token, remove the device.
import { api, showError } from './api.js';

const panel = document.getElementById('device-manage');
if (panel) {
  const { device, serverUrl, fingerprint } = panel.dataset;
  const path = `/api/v1/devices/${encodeURIComponent(device)}`;
  const error = document.getElementById('manage-error');
  const form = document.getElementById('device-edit');

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showError(error, '');
    const tags = form.elements.tags.value.split(/[\s,]+/).filter(Boolean);
    try {
      await api('PATCH', path, { group: form.elements.group.value.trim(), tags });
      location.reload();
    } catch (e) {
      showError(error, e.message);
    }
  });

  document.getElementById('reissue-enrolment').addEventListener('click', async () => {
    if (!confirm(`Issue a new enrolment token for ${device}? Its agent's current credential stops working at once.`)) return;
    showError(error, '');
    try {
      const issued = await api('POST', `${path}/enrolment-token`);
      document.getElementById('reissued-command').textContent = [
        'porthole-agent enrol', `--server ${serverUrl}`, `--token ${issued.enrolmentToken}`, '--state-dir /var/lib/porthole-agent',
        ...(fingerprint ? [`--fingerprint ${fingerprint}`] : []),
      ].join(' ');
      document.getElementById('reissued').hidden = false;
    } catch (e) {
      showError(error, e.message);
    }
  });

  document.getElementById('remove-device').addEventListener('click', async () => {
    if (!confirm(`Remove ${device}? Its endpoints and credentials are deleted and its agent is disconnected.`)) return;
    showError(error, '');
    try {
      await api('DELETE', path);
      location.assign('/devices');
    } catch (e) {
      showError(error, e.message);
    }
  });
}
