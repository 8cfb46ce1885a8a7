// Shading a text by per-token weights (shared by the Classify, Compare and Train views).
// The text only ever enters the page as text nodes.

// Draws `text` into `container` with one span per token, shaded by weight / the largest weight.
export function drawHighlight(container, text, tokens, weights) {
  const maxWeight = weights.reduce((m, w) => Math.max(m, w), 0);
  const order = weights.map((w, i) => i).sort((a, b) => weights[b] - weights[a]);
  const rank = new Array(weights.length);
  order.forEach((tokenIndex, position) => { rank[tokenIndex] = position + 1; });
  const fragment = document.createDocumentFragment();
  let cursor = 0;
  tokens.forEach((token, index) => {
    if (token.start > cursor) fragment.append(document.createTextNode(text.slice(cursor, token.start)));
    const span = document.createElement('span');
    span.className = token.oov ? 'token oov' : 'token';
    span.textContent = text.slice(token.start, token.end);
    const strength = maxWeight > 0 ? weights[index] / maxWeight : 0;
    span.style.backgroundColor = `rgba(var(--accent), ${(0.85 * strength).toFixed(3)})`;
    span.tabIndex = 0;
    span.dataset.index = String(index);
    span.dataset.start = String(token.start);
    span.dataset.end = String(token.end);
    span.dataset.weight = String(weights[index]);
    span.dataset.rank = String(rank[index]);
    span.setAttribute('aria-label', `${span.textContent}: weight ${weights[index].toFixed(4)}${token.oov ? ', unknown word' : ''}`);
    fragment.append(span);
    cursor = token.end;
  });
  if (cursor < text.length) fragment.append(document.createTextNode(text.slice(cursor)));
  container.replaceChildren(fragment);
  return maxWeight;
}
