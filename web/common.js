// Small helpers shared by the page's modules and its workers (nothing here touches the DOM).

// The bytes at `url`, or an Error that names `what` and the reason.
export async function fetchBytes(url, what) {
  let response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`Could not download ${what} (${url.pathname}): ${error.message ?? error}`);
  }
  if (!response.ok) throw new Error(`Could not download ${what} (${url.pathname}): HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

// Starts a module worker; `fail(message)` hears why it could not start or run.
export function startWorker(url, what, onMessage, fail) {
  let worker;
  try {
    worker = new Worker(url, { type: 'module' });
  } catch (error) {
    fail(`This browser cannot start the ${what}: ${error.message}`);
    return null;
  }
  worker.addEventListener('error', (event) => {
    fail(`The ${what} failed to start: ${event.message || 'the worker script could not be loaded'}.`);
  });
  worker.addEventListener('message', onMessage);
  return worker;
}
