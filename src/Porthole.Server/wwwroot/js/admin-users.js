// The users page: the table of accounts and grants, Add user (a generated password is shown once),
// Enable/Disable, Remove, Add grant and Remove grant, all through /api/v1/users.
import { api, showError } from './api.js';
import { confirmThen, el, fill, list } from './admin-common.js';

const error = document.getElementById('users-error');
const tbody = document.querySelector('#users tbody');

function describe(grant) {
  const limits = [];
  if (grant.groups.length) limits.push(`groups ${grant.groups.join(', ')}`);
  if (grant.tags.length) limits.push(`tags ${grant.tags.join(', ')}`);
  if (grant.devices.length) limits.push(`devices ${grant.devices.join(', ')}`);
  if (grant.actions.length) limits.push(`actions ${grant.actions.join(', ')}`);
  return limits.length ? ` on ${limits.join('; ')}` : ' (all devices)';
}

function row(user) {
  const state = [el('span', { class: `badge ${user.disabled ? 'badge-disabled' : 'badge-enabled'}` }, user.disabled ? 'Disabled' : 'Enabled')];
  if (user.mustChangePassword) state.push(' ', el('span', { class: 'muted' }, 'must change password'));
  const grants = user.grants.length
    ? user.grants.map((g) => el('div', { class: 'grant', 'data-grant': g.id },
        el('span', {}, el('strong', {}, g.role), describe(g)),
        el('button', { type: 'button', class: 'btn-small btn-danger', 'data-action': 'remove-grant', title: 'Remove this grant' }, 'Remove')))
    : [el('span', { class: 'muted' }, 'no grants')];
  return el('tr', { 'data-user': user.username },
    el('td', { style: 'white-space:nowrap' }, el('strong', {}, user.username)),
    el('td', {}, state),
    el('td', {}, grants),
    el('td', { class: 'mono', style: 'white-space:nowrap' }, new Date(user.createdAt).toISOString().replace('T', ' ').slice(0, 19)),
    el('td', {}, el('span', { class: 'row-actions' },
      el('button', { type: 'button', class: 'btn-small', 'data-action': 'add-grant' }, 'Add grant'),
      el('button', { type: 'button', class: 'btn-small', 'data-action': user.disabled ? 'enable' : 'disable' }, user.disabled ? 'Enable' : 'Disable'),
      el('button', { type: 'button', class: 'btn-small btn-danger', 'data-action': 'remove' }, 'Remove'))));
}

async function load() {
  try {
    const users = await api('GET', '/api/v1/users');
    fill(tbody, users.map(row), 5, 'No users.');
  } catch (e) {
    showError(error, e.message);
  }
}

const userPath = (name) => `/api/v1/users/${encodeURIComponent(name)}`;

tbody.addEventListener('click', async (event) => {
  const button = event.target.closest('[data-action]');
  if (!button) return;
  const user = button.closest('tr').dataset.user;
  showError(error, '');
  switch (button.dataset.action) {
    case 'enable':
    case 'disable':
      button.disabled = true;
      try {
        await api('PATCH', userPath(user), { disabled: button.dataset.action === 'disable' });
        await load();
      } catch (e) {
        showError(error, e.message);
        button.disabled = false;
      }
      break;
    case 'remove':
      confirmThen(`Remove the user ${user}? Their sessions and API tokens stop working.`, async () => {
        await api('DELETE', userPath(user));
        await load();
      });
      break;
    case 'remove-grant': {
      const grant = button.closest('[data-grant]');
      confirmThen(`Remove the grant "${grant.textContent.replace(/Remove$/, '').trim()}" from ${user}?`, async () => {
        await api('DELETE', `${userPath(user)}/grants/${encodeURIComponent(grant.dataset.grant)}`);
        await load();
      });
      break;
    }
    case 'add-grant':
      openGrantDialog(user);
      break;
  }
});

// --- Add user -------------------------------------------------------------------------------------
const userDialog = document.getElementById('user-dialog');
const userForm = document.getElementById('user-form');
const userError = document.getElementById('user-error');

document.getElementById('add-user').addEventListener('click', () => {
  userForm.reset();
  showError(userError, '');
  userDialog.showModal();
  userForm.elements.username.focus();
});
document.getElementById('user-cancel').addEventListener('click', () => userDialog.close());

userForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  showError(userError, '');
  const role = userForm.elements.role.value;
  const body = {
    username: userForm.elements.username.value.trim(),
    password: userForm.elements.password.value || null,
    roles: role ? [role] : [],
  };
  const save = document.getElementById('user-save');
  save.disabled = true;
  try {
    const created = await api('POST', '/api/v1/users', body);
    userDialog.close();
    userForm.reset();
    await load();
    if (created.generatedPassword) {
      document.getElementById('generated-for').textContent = created.user.username;
      document.getElementById('generated-password').textContent = created.generatedPassword;
      const dialog = document.getElementById('password-dialog');
      // The secret leaves the page when the dialog closes; it is never shown again.
      dialog.addEventListener('close', () => { document.getElementById('generated-password').textContent = ''; }, { once: true });
      dialog.showModal();
    }
  } catch (e) {
    showError(userError, e.message);
  } finally {
    save.disabled = false;
  }
});

// --- Add grant ------------------------------------------------------------------------------------
const grantDialog = document.getElementById('grant-dialog');
const grantForm = document.getElementById('grant-form');
const grantError = document.getElementById('grant-error');
let granting = null;

function openGrantDialog(user) {
  granting = user;
  grantForm.reset();
  showError(grantError, '');
  document.getElementById('grant-dialog-title').textContent = `Add grant to ${user}`;
  grantDialog.showModal();
}

document.getElementById('grant-cancel').addEventListener('click', () => grantDialog.close());

grantForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  showError(grantError, '');
  const body = {
    role: grantForm.elements.role.value,
    groups: list(grantForm.elements.groups.value),
    tags: list(grantForm.elements.tags.value),
    devices: list(grantForm.elements.devices.value),
    actions: [...grantForm.querySelectorAll('input[name=actions]:checked')].map((c) => c.value),
  };
  const save = document.getElementById('grant-save');
  save.disabled = true;
  try {
    await api('POST', `${userPath(granting)}/grants`, body);
    grantDialog.close();
    await load();
  } catch (e) {
    showError(grantError, e.message);
  } finally {
    save.disabled = false;
  }
});

load();
