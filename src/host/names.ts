/**
 * Account names under the Controller: they name a folder (`<data_dir>/accounts/NAME/`), database rows, metric
 * labels and a `client=` query value, so they must be safe in all of them.
 */
import { owxError } from '../errors.ts';

export const CLIENT_NAME_MAX_CHARS = 64;
const CLIENT_NAME = /^[A-Za-z0-9][\w.@-]*$/;

/** Why `name` is not a usable account name, or null when it is. */
export function clientNameProblem(name: string): string | null {
  if (name.length > CLIENT_NAME_MAX_CHARS) return `at most ${CLIENT_NAME_MAX_CHARS} characters`;
  if (!CLIENT_NAME.test(name)) return 'it must start with a letter or digit and hold only letters, digits, _ . @ -';
  return null;
}

/** Throws OWX_ERR_CLIENT_NAME (code 1) unless `name` is a usable account name. */
export function checkClientName(name: string): void {
  const why = clientNameProblem(name);
  if (why) throw owxError('OWX_ERR_CLIENT_NAME', [JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name), why]);
}
