import { invalidArgument } from './invalid.ts';

/**
 * Wilson score interval of a conversion rate: stays inside [0, 1] and behaves at 0 or all
 * conversions and small samples, where the normal approximation does not. z = 1.96 gives 95%.
 */
export function wilsonInterval(conversions: number, exposures: number, z = 1.96): [number, number] {
  if (!Number.isInteger(exposures) || exposures < 0) throw invalidArgument('exposures', `must be a non-negative integer (got ${exposures})`);
  if (!Number.isInteger(conversions) || conversions < 0 || conversions > exposures) throw invalidArgument('conversions', `must be an integer from 0 to exposures (got ${conversions} of ${exposures})`);
  if (exposures === 0) return [0, 1];
  const p = conversions / exposures;
  const z2 = z * z;
  const centre = (p + z2 / (2 * exposures)) / (1 + z2 / exposures);
  const half = (z * Math.sqrt((p * (1 - p)) / exposures + z2 / (4 * exposures * exposures))) / (1 + z2 / exposures);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}
