// Calls the JSON API with the session cookie. State-changing calls carry the page's antiforgery token
// (CookieCsrfMiddleware); failures throw an ApiError whose message is the server's problem `detail`.
const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content ?? '';

export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers.RequestVerificationToken = csrfToken;
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }

  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'the server could not be reached; check your connection');
  }

  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    if (response.status === 401) {
      throw new ApiError(401, data?.detail ?? 'your session has ended; log in again', data?.code);
    }
    throw new ApiError(response.status, data?.detail ?? data?.title ?? `${response.status} ${response.statusText}`, data?.code);
  }
  return data;
}

/** Puts a message into an element marked role=alert, or hides it when message is empty. */
export function showError(element, message) {
  element.textContent = message ?? '';
  element.hidden = !message;
}
