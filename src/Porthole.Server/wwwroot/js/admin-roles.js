// The roles page: every role with its permissions; create a custom role; remove a custom role
// (built-in roles are read-only), through /api/v1/roles.
import { api, showError } from './api.js';
import { confirmThen, el, fill } from './admin-common.js';

const error = document.getElementById('roles-error');
const tbody = document.querySelector('#roles tbody');

function row(role) {
  return el('tr', { 'data-role': role.name },
    el('td', { style: 'white-space:nowrap' }, el('strong', {}, role.name), role.builtIn ? [' ', el('span', { class: 'badge badge-proto' }, 'built-in')] : null),
    el('td', {}, role.description ?? ''),
    el('td', {}, role.permissions.map((p) => el('span', { class: 'tag mono' }, p))),
    el('td', {}, role.builtIn ? null : el('button', { type: 'button', class: 'btn-small btn-danger', 'data-action': 'remove' }, 'Remove')));
}

async function load() {
  try {
    const roles = await api('GET', '/api/v1/roles');
    fill(tbody, roles.map(row), 4, 'No roles.');
  } catch (e) {
    showError(error, e.message);
  }
}

tbody.addEventListener('click', (event) => {
  const button = event.target.closest('[data-action=remove]');
  if (!button) return;
  const role = button.closest('tr').dataset.role;
  showError(error, '');
  confirmThen(`Remove the role ${role}?`, async () => {
    await api('DELETE', `/api/v1/roles/${encodeURIComponent(role)}`);
    await load();
  });
});

const form = document.getElementById('role-form');
const formError = document.getElementById('role-error');
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  showError(formError, '');
  const body = {
    name: form.elements.name.value.trim(),
    description: form.elements.description.value.trim() || null,
    permissions: [...form.querySelectorAll('input[name=permissions]:checked')].map((c) => c.value),
  };
  const save = document.getElementById('role-save');
  save.disabled = true;
  try {
    await api('POST', '/api/v1/roles', body);
    form.reset();
    await load();
  } catch (e) {
    showError(formError, e.message);
  } finally {
    save.disabled = false;
  }
});

load();
