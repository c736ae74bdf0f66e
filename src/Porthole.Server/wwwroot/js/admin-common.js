// Helpers shared by the admin pages: building rows without innerHTML, splitting list fields, and a
// confirm dialog that shows the server's reason when the confirmed call fails.
import { showError } from './api.js';

/** Creates an element; attrs become attributes (dataset via `data-*`), children are nodes or text. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Splits a comma-separated field into trimmed, non-empty items. */
export function list(text) {
  return text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Replaces a table body's rows, or shows one "empty" row. */
export function fill(tbody, rows, columns, emptyText) {
  tbody.replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: columns, class: 'empty' }, emptyText))]));
}

/**
 * Asks to confirm through #confirm-dialog, then runs action; on failure the dialog stays open with the error.
 * Resolves once the action succeeded (or never, when cancelled).
 */
export function confirmThen(text, action) {
  const dialog = document.getElementById('confirm-dialog');
  const error = document.getElementById('confirm-error');
  const ok = document.getElementById('confirm-ok');
  document.getElementById('confirm-text').textContent = text;
  showError(error, '');
  document.getElementById('confirm-cancel').onclick = () => dialog.close();
  ok.onclick = async () => {
    ok.disabled = true;
    try {
      await action();
      dialog.close();
    } catch (e) {
      showError(error, e.message);
    } finally {
      ok.disabled = false;
    }
  };
  dialog.showModal();
}
