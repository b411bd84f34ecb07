import { AttuneError, zodIssues } from '@attune/core';
import type { z } from 'zod';

/** Parses input with a zod schema or throws a VALIDATION error naming every invalid field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, prefix: PropertyKey[] = []): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = zodIssues(result.error, prefix);
  const first = issues[0];
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  throw new AttuneError('VALIDATION', first ? `${first.path}: ${first.message}${more}` : 'invalid input', { issues });
}
