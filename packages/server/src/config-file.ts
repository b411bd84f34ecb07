import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { AttuneError } from '@attune/core';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

/**
 * Decision configuration files for `attune config apply` / `export`: JSON, or YAML (by the
 * extension .yaml/.yml, or when the text does not start like JSON). Parse errors name the line.
 */
export async function readConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new AttuneError('VALIDATION', `cannot read ${path}: ${(error as Error).message}`);
  }
  return parseConfigText(text, path);
}

export function parseConfigText(text: string, name: string): unknown {
  const yaml = ['.yaml', '.yml'].includes(extname(name).toLowerCase()) || !/^\s*[{[]/.test(text);
  try {
    if (!yaml) return JSON.parse(text);
    return parseYaml(text, { prettyErrors: true, uniqueKeys: true, maxAliasCount: 100 });
  } catch (error) {
    const message = (error as Error).message.split('\n')[0];
    throw new AttuneError('VALIDATION', `${name} is not valid ${yaml ? 'YAML' : 'JSON'}: ${message}`, {
      issues: [{ path: '(file)', message: message ?? 'parse error' }],
    });
  }
}

export function formatConfig(config: unknown, format: 'json' | 'yaml'): string {
  return format === 'yaml' ? stringifyYaml(config, { lineWidth: 0 }) : `${JSON.stringify(config, null, 2)}\n`;
}
