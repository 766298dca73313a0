// Helpers of the status page: elements built from data (never from HTML strings, so no text the
// master reports can inject markup), and the formatting of bytes, times and fractions.

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(element, attrs, children) {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** An HTML element: h('a', { href }, 'text', child, ...). */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element, same shape as h. */
export function svg(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

export function formatMs(ms) {
  if (!Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function formatCount(n) {
  return Number.isFinite(n) ? n.toLocaleString('en-US') : '–';
}

/** Whole percent, rounded down: 100% only once the work is all done. */
export function percentOf(fraction) {
  return Math.floor(Math.min(1, Math.max(0, fraction)) * 100 + 1e-9);
}

/**
 * Makes `from` (in the page) look like `to` (just built), keeping the elements that stay: what
 * has focus, a link under the pointer and a selection survive an update. Children match by
 * position; listeners are not copied (the page delegates its events to containers).
 */
export function morph(from, to) {
  if (from.nodeName !== to.nodeName || (from.nodeType !== Node.ELEMENT_NODE && from.nodeType !== Node.TEXT_NODE)) {
    from.replaceWith(to);
    return to;
  }
  if (from.nodeType === Node.TEXT_NODE) {
    if (from.data !== to.data) from.data = to.data;
    return from;
  }
  for (const { name } of [...from.attributes]) if (!to.hasAttribute(name)) from.removeAttribute(name);
  for (const { name, value } of [...to.attributes]) if (from.getAttribute(name) !== value) from.setAttribute(name, value);
  const old = [...from.childNodes];
  const now = [...to.childNodes];
  now.forEach((child, i) => (i < old.length ? morph(old[i], child) : from.append(child)));
  for (const child of old.slice(now.length)) child.remove();
  return from;
}
