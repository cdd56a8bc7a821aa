/**
 * A tagged template that escapes every interpolated value unless it is already markup built by this
 * template: `html\`<td>${name}</td>\`` cannot inject, whatever a token name or a reason contains.
 * Arrays are joined; undefined, null and false render nothing.
 */
import escapeHtml from 'escape-html';

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === undefined || value === null || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!;
  });
  return new SafeHtml(out);
}

/** Markup written in this code base (a stylesheet, an SVG path): never text from data. */
export const trusted = (markup: string): SafeHtml => new SafeHtml(markup);
