// The open-sessions page: Terminate ends a session through the API; both of its ends are told who ended it.
import { api, showError } from './api.js';

const error = document.getElementById('sessions-error');

document.querySelectorAll('[data-action=terminate]').forEach((button) => {
  button.addEventListener('click', async () => {
    const row = button.closest('tr');
    button.disabled = true;
    showError(error, '');
    try {
      await api('DELETE', `/api/v1/sessions/${encodeURIComponent(row.dataset.session)}`);
      row.remove();
    } catch (e) {
      showError(error, e.message);
      button.disabled = false;
    }
  });
});
