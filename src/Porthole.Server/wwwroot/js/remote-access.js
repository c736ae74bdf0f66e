// The Remote access tab: row menus, the Add/Edit endpoint dialog, Remove, and Connect (opens a viewer tab).
import { api, showError } from './api.js';

const panel = document.getElementById('remote-access');
const device = panel.dataset.device;
const endpointsPath = `/api/v1/devices/${encodeURIComponent(device)}/endpoints`;

// --- Row menus ------------------------------------------------------------------------------------
function closeMenus(except) {
  for (const menu of document.querySelectorAll('.row-menu.open')) {
    if (menu !== except) menu.classList.remove('open');
  }
}

document.addEventListener('click', (event) => {
  const button = event.target.closest('.row-menu-button');
  if (button) {
    const menu = button.parentElement;
    closeMenus(menu);
    menu.classList.toggle('open');
    return;
  }
  if (!event.target.closest('.row-menu')) closeMenus();
});
document.addEventListener('keydown', (event) => { if (event.key === 'Escape') closeMenus(); });

panel.addEventListener('click', (event) => {
  const item = event.target.closest('[data-action]');
  if (!item) return;
  closeMenus();
  const row = item.closest('tr');
  switch (item.dataset.action) {
    case 'connect':
      // A new tab per session; the viewer opens the session itself, so nothing secret is in this URL. No opener:
      // a device's web page ends up in that tab and must not reach back into this one.
      window.open(item.dataset.viewer, '_blank', 'noopener');
      break;
    case 'edit':
      openEndpointDialog(row);
      break;
    case 'remove':
      openRemoveDialog(row);
      break;
  }
});

// --- Add / Edit -----------------------------------------------------------------------------------
const dialog = document.getElementById('endpoint-dialog');
const form = document.getElementById('endpoint-form');
const formError = document.getElementById('endpoint-error');
let editing = null;
let nameTouched = false;

const defaultPorts = { vnc: 5900, telnet: 23, tcp: 23, ssh: 22, http: 80, https: 443 };

function slug(text) {
  return text.toLowerCase().normalize('NFKD').replace(/[^a-z0-9._-]+/g, '-').replace(/^[-._]+|-+$/g, '').slice(0, 63);
}

const isWeb = (protocol) => protocol === 'http' || protocol === 'https';

const passwordLabels = {
  vnc: 'VNC password (optional)',
  ssh: 'SSH password or key passphrase (optional)',
  http: 'Device login password (optional; the server answers the login, the browser never sees it)',
};

function updatePasswordField() {
  const protocol = form.elements.protocol.value;
  document.getElementById('ep-password-field').hidden = protocol !== 'vnc' && protocol !== 'ssh' && !isWeb(protocol);
  document.getElementById('ep-ssh-fields').hidden = protocol !== 'ssh';
  document.getElementById('ep-web-fields').hidden = !isWeb(protocol);
  document.getElementById('ep-password-label').textContent = passwordLabels[isWeb(protocol) ? 'http' : protocol] ?? passwordLabels.vnc;
}

// The credential to store for the endpoint, if the dialog has one; secrets go to the write-only credential API.
function credentialFrom(protocol) {
  const password = form.elements.password.value;
  if (protocol === 'vnc') return password ? { kind: 'vnc-password', password } : null;
  if (isWeb(protocol)) {
    const username = form.elements.webUser.value.trim();
    return username && password ? { kind: 'http-password', username, password } : null;
  }
  if (protocol !== 'ssh') return null;
  const username = form.elements.sshUser.value.trim();
  const privateKey = form.elements.sshKey.value.trim();
  if (!username || (!privateKey && !password)) return null;
  return privateKey
    ? { kind: 'ssh-key', username, privateKey: privateKey + '\n', passphrase: password || null }
    : { kind: 'ssh-password', username, password };
}

function openEndpointDialog(row) {
  form.reset();
  showError(formError, '');
  editing = row?.dataset.endpoint ?? null;
  nameTouched = editing !== null;
  document.getElementById('endpoint-dialog-title').textContent = editing ? `Edit endpoint ${editing}` : 'Add endpoint';
  document.getElementById('ep-password-keep').hidden = !editing;
  if (row) {
    form.elements.description.value = row.dataset.description ?? '';
    form.elements.name.value = row.dataset.endpoint;
    form.elements.host.value = row.dataset.host;
    form.elements.port.value = row.dataset.port;
    form.elements.protocol.value = row.dataset.protocol;
    form.elements.hostHeader.value = row.dataset.hostHeader ?? '';
    form.elements.rewriteLinks.checked = row.dataset.rewriteLinks === 'true';
  }
  updatePasswordField();
  dialog.showModal();
  form.elements.description.focus();
}

if (dialog) {
  document.getElementById('add-endpoint').addEventListener('click', () => openEndpointDialog(null));
  document.getElementById('endpoint-cancel').addEventListener('click', () => dialog.close());
  form.elements.name.addEventListener('input', () => { nameTouched = true; });
  form.elements.description.addEventListener('input', () => {
    if (!nameTouched) form.elements.name.value = slug(form.elements.description.value);
  });
  form.elements.protocol.addEventListener('change', () => {
    const known = Object.values(defaultPorts).map(String);
    if (!form.elements.port.value || known.includes(form.elements.port.value)) {
      form.elements.port.value = defaultPorts[form.elements.protocol.value];
    }
    updatePasswordField();
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showError(formError, '');
    const body = {
      name: form.elements.name.value.trim(),
      host: form.elements.host.value.trim(),
      port: Number.parseInt(form.elements.port.value, 10) || 0,
      protocol: form.elements.protocol.value,
      description: form.elements.description.value.trim(),
    };
    if (isWeb(body.protocol)) {
      body.hostHeader = form.elements.hostHeader.value.trim();
      body.rewriteAbsoluteLinks = form.elements.rewriteLinks.checked;
    }
    const credential = credentialFrom(body.protocol);
    const save = document.getElementById('endpoint-save');
    save.disabled = true;
    try {
      let saved;
      if (editing) {
        saved = await api('PATCH', `${endpointsPath}/${encodeURIComponent(editing)}`, body);
      } else {
        saved = await api('POST', endpointsPath, { ...body, description: body.description || null, hostHeader: body.hostHeader || null });
      }
      if (credential) {
        await api('PUT', `${endpointsPath}/${encodeURIComponent(saved.name)}/credential`, credential);
      }
      location.reload();
    } catch (e) {
      showError(formError, e.message);
    } finally {
      save.disabled = false;
    }
  });
}

// --- Remove ---------------------------------------------------------------------------------------
const removeDialog = document.getElementById('remove-dialog');
let removing = null;

function openRemoveDialog(row) {
  removing = row.dataset.endpoint;
  document.getElementById('remove-name').textContent = row.dataset.description || removing;
  showError(document.getElementById('remove-error'), '');
  removeDialog.showModal();
}

if (removeDialog) {
  document.getElementById('remove-cancel').addEventListener('click', () => removeDialog.close());
  document.getElementById('remove-confirm').addEventListener('click', async () => {
    try {
      await api('DELETE', `${endpointsPath}/${encodeURIComponent(removing)}`);
      location.reload();
    } catch (e) {
      showError(document.getElementById('remove-error'), e.message);
    }
  });
}
