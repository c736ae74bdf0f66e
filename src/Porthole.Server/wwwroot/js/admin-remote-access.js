// The remote-access rules page: committed and staged rules, the stage form, and Commit / Discard, through
// /api/v1/remote-access. Staging changes nothing until Commit.
import { api, showError } from './api.js';
import { el, fill } from './admin-common.js';

const error = document.getElementById('rules-error');
const result = document.getElementById('rules-result');
const committedBody = document.querySelector('#rules-committed tbody');
const stagedBody = document.querySelector('#rules-staged tbody');

function setting(enabled) {
  if (enabled === null) return el('span', { class: 'badge badge-offline' }, 'Remove rule');
  return el('span', { class: `badge ${enabled ? 'badge-enabled' : 'badge-disabled'}` }, enabled ? 'Enabled' : 'Disabled');
}

function row(rule) {
  return el('tr', { 'data-scope': rule.scope, 'data-target': rule.target },
    el('td', {}, rule.scope),
    el('td', { class: 'mono' }, rule.scope === 'global' ? '—' : rule.target),
    el('td', {}, setting(rule.enabled)),
    el('td', {}, rule.staged ? 'staged' : 'committed'),
    el('td', { class: 'mono', style: 'white-space:nowrap' }, new Date(rule.updatedAt).toISOString().replace('T', ' ').slice(0, 19)),
    el('td', {}, rule.updatedBy));
}

async function load() {
  try {
    const rules = await api('GET', '/api/v1/remote-access/rules');
    fill(committedBody, rules.filter((r) => !r.staged).map(row), 6, 'No committed rules: remote access is enabled everywhere.');
    fill(stagedBody, rules.filter((r) => r.staged).map(row), 6, 'No staged changes.');
  } catch (e) {
    showError(error, e.message);
  }
}

const form = document.getElementById('stage-form');
if (form) {
  const target = form.elements.target;
  const updateTarget = () => { target.disabled = form.elements.scope.value === 'global'; };
  form.elements.scope.addEventListener('change', updateTarget);
  updateTarget();

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showError(error, '');
    showError(result, '');
    const scope = form.elements.scope.value;
    const value = form.elements.setting.value;
    const body = {
      scope,
      target: scope === 'global' ? null : target.value.trim(),
      enabled: value === 'remove' ? null : value === 'enable',
    };
    try {
      await api('PUT', '/api/v1/remote-access/rules', body);
      target.value = '';
      await load();
    } catch (e) {
      showError(error, e.message);
    }
  });

  for (const [id, path] of [['commit', '/api/v1/remote-access/commit'], ['discard', '/api/v1/remote-access/discard']]) {
    const button = document.getElementById(id);
    button.addEventListener('click', async () => {
      showError(error, '');
      showError(result, '');
      button.disabled = true;
      try {
        const done = await api('POST', path);
        showError(result, id === 'commit'
            ? `${done.applied} change(s) applied.` + (done.sessionsEnded > 0 ? ` ${done.sessionsEnded} open session(s) on devices now disabled were ended.` : '')
            : `${done.applied} staged change(s) discarded.`);
        await load();
      } catch (e) {
        showError(error, e.message);
      } finally {
        button.disabled = false;
      }
    });
  }
}

load();
