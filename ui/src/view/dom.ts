// Small DOM helpers. Text from the network only ever goes through
// textContent / attributes set here: never innerHTML.

/** The element with this id, or an error naming it. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`pushdesk: #${id} missing from the page`);
  return el as T;
}

export interface ElementProps {
  className?: string;
  text?: string;
  attrs?: Record<string, string>;
}

/** A new element with a class, text content and attributes. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: ElementProps = {},
  ...children: Node[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.className !== undefined) el.className = props.className;
  if (props.text !== undefined) el.textContent = props.text;
  if (props.attrs) for (const [k, v] of Object.entries(props.attrs)) el.setAttribute(k, v);
  for (const child of children) el.append(child);
  return el;
}
