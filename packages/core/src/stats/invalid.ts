import { AttuneError } from '../errors.ts';

/** A VALIDATION error about one argument of a pure function: `path` names it, as in the caller's input. */
export function invalidArgument(path: string, message: string): AttuneError {
  return new AttuneError('VALIDATION', `${path}: ${message}`, { issues: [{ path, message }] });
}
