// A tiny element builder: text is always set as text, never parsed as HTML.
type Child = Node | string | number | null | undefined | false
type Props = Record<string, string | number | boolean | EventListener | undefined>

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value)
    // Through the CSSOM: the console's content policy refuses style attributes.
    else if (name === 'style') element.style.cssText = String(value)
    else if (value === true) element.setAttribute(name, '')
    else element.setAttribute(name, String(value))
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    element.append(typeof child === 'object' ? child : String(child))
  }
  return element
}

export function replace(parent: Element, ...children: (Child | Child[])[]): void {
  parent.replaceChildren()
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    parent.append(typeof child === 'object' ? child : String(child))
  }
}

/** A labelled form field: the label names the control for screen readers. */
export function field(label: string, control: HTMLElement): HTMLElement {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`
  control.id = id
  return h('div', { class: 'field' }, h('label', { for: id }, label), control)
}
