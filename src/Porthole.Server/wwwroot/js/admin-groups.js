// The groups page: the device group tree (indented by path) with device counts; add a group path and
// remove an empty group, through /api/v1/groups.
import { api, showError } from './api.js';
import { confirmThen, el, fill } from './admin-common.js';

const panel = document.getElementById('groups-panel');
const canManage = panel.dataset.manage === 'true';
const error = document.getElementById('groups-error');
const tbody = document.querySelector('#groups tbody');

function row(group, hasChildren) {
  const depth = group.path.split('/').length - 1;
  const empty = group.devices === 0 && !hasChildren;
  return el('tr', { 'data-group': group.path },
    el('td', { style: `padding-left:${0.6 + depth * 1.4}rem` }, depth ? el('span', { class: 'muted' }, '└ ') : null, el('strong', {}, group.name)),
    el('td', { class: 'mono' }, group.path),
    el('td', {}, group.devices),
    el('td', {}, canManage && empty ? el('button', { type: 'button', class: 'btn-small btn-danger', 'data-action': 'remove' }, 'Remove') : null));
}

async function load() {
  try {
    const groups = await api('GET', '/api/v1/groups');
    const parents = new Set(groups.map((g) => g.parent).filter((p) => p));
    fill(tbody, groups.map((g) => row(g, parents.has(g.path))), 4, 'No groups yet.');
  } catch (e) {
    showError(error, e.message);
  }
}

tbody.addEventListener('click', (event) => {
  const button = event.target.closest('[data-action=remove]');
  if (!button) return;
  const path = button.closest('tr').dataset.group;
  showError(error, '');
  // The path's slashes are route separators ({**path}); each segment is encoded on its own.
  confirmThen(`Remove the group ${path}?`, async () => {
    await api('DELETE', `/api/v1/groups/${path.split('/').map(encodeURIComponent).join('/')}`);
    await load();
  });
});

const form = document.getElementById('group-form');
if (form) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showError(error, '');
    const save = document.getElementById('group-save');
    save.disabled = true;
    try {
      await api('POST', '/api/v1/groups', { path: form.elements.path.value.trim() });
      form.reset();
      await load();
    } catch (e) {
      showError(error, e.message);
    } finally {
      save.disabled = false;
    }
  });
}

load();
