// Sizes every attnlens embed frame on the page to the height its content reports.
window.addEventListener('message', (event) => {
  if (event.data?.type !== 'attn-lens-embed-size' || !Number.isFinite(event.data.height)) return;
  for (const frame of document.querySelectorAll('iframe.attn-lens-embed')) {
    if (frame.contentWindow === event.source) frame.style.height = `${Math.min(4000, Math.max(50, event.data.height))}px`;
  }
});
