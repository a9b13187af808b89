import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import { packagePath } from '../package-paths.js';

type Template = (view: object) => string;

const compiled = new Map<string, Template>();

/**
 * Renders one Handlebars template of templates/ with a precomputed view model. Templates are
 * compiled strict (a missing field throws) and without HTML escaping (it would corrupt TOML).
 * @param name - path below templates/, e.g. `besu/config.toml.hbs`
 * @param view - every value the template names, already formatted for the target syntax
 */
export function renderTemplate(name: string, view: object): string {
  let template = compiled.get(name);
  if (!template) {
    const source = readFileSync(packagePath('templates', name), 'utf8');
    template = Handlebars.compile(source, { strict: true, noEscape: true });
    compiled.set(name, template);
  }
  return template(view);
}

/** A TOML basic string: JSON's string escapes are a subset of TOML's. */
export function tomlString(value: string): string {
  return JSON.stringify(value);
}

/** A TOML array of strings on one line. */
export function tomlStringArray(values: readonly string[]): string {
  return `[${values.map(tomlString).join(',')}]`;
}
