/** Access to the real captures in test/fixtures/wechat-web (copied from shared/fixtures; see SOURCES.md there). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/wechat-web/', import.meta.url));

export function fixtureText(name: string): string {
  return readFileSync(join(FIXTURES_DIR, name), 'utf8');
}

/** Strips `//` line comments outside strings (for the .jsonc doc examples). */
export function stripJsonComments(text: string): string {
  let out = '';
  let inStr = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inStr) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inStr = false;
    } else if (c === '"') {
      inStr = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else out += c;
  }
  return out;
}

export function fixtureJson<T = any>(name: string): T {
  const t = fixtureText(name);
  return JSON.parse(name.endsWith('.jsonc') ? stripJsonComments(t) : t) as T;
}

/** Splits an `http-*.txt` capture into request/response exchanges (separated by ####… lines). */
export function httpExchanges(name: string): { request: string; status: number; headers: Record<string, string[]>; body: string }[] {
  return fixtureText(name)
    .split(/\n#{20,}\n/)
    .map((block) => {
      const resAt = block.search(/^HTTP\/1\.1 \d+/m);
      const request = block.slice(0, resAt);
      const res = block.slice(resAt);
      const [head, ...rest] = res.split(/\r?\n\r?\n/);
      const lines = (head ?? '').split(/\r?\n/);
      const status = Number(/HTTP\/1\.1 (\d+)/.exec(lines[0] ?? '')?.[1]);
      const headers: Record<string, string[]> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) (headers[l.slice(0, i).toLowerCase()] ??= []).push(l.slice(i + 1).trim());
      }
      return { request, status, headers, body: rest.join('\n\n') };
    });
}
