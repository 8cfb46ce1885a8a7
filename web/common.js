// What the Train view's worker needs to download a model to fine-tune (nothing here touches the DOM).

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
